#!/usr/bin/env node
/*
 * SDK compatibility check of the platform config: getPlatformConfig and updatePlatformConfig through
 * the official Fynd JavaScript SDK (@gofynd/fdk-client-javascript 3.4.2) with strictResponseCheck on,
 * so every answer is validated against the SDK's PlatformSchema (a mismatch rejects the call).
 *
 * Run by tests/test_sdk_platform_config.py against a live server with a fresh application.
 * Environment: FDK_DOMAIN, FDK_COMPANY_ID, FDK_APPLICATION_ID, FDK_CLIENT_ID, FDK_CLIENT_SECRET,
 * FDK_READONLY_CLIENT_ID, FDK_READONLY_CLIENT_SECRET (a client with application/customers/read only).
 * Exits 0 when every step passes; otherwise prints the failing step and exits 1.
 */
"use strict";

const assert = require("node:assert/strict");
const {
  OBJECT_ID, ISO_MS_Z, env, expectServerError, step, run, connect,
} = require("./harness");

/** JSON types the SDK's Joi would coerce: check them here, and that no string is null. */
function checkConfig(cfg) {
  assert.ok(cfg && typeof cfg === "object", `config should be an object, got ${JSON.stringify(cfg)}`);
  assert.match(cfg._id, OBJECT_ID, "_id is a 24-hex ObjectId");
  assert.match(cfg.created_at, ISO_MS_Z, "created_at is ISO 8601 UTC with milliseconds");
  assert.match(cfg.updated_at, ISO_MS_Z, "updated_at is ISO 8601 UTC with milliseconds");
  assert.equal(typeof cfg.__v, "number", "__v is a JSON number");
  assert.equal(typeof cfg.delete_account_day, "number", "delete_account_day is a JSON number");
  assert.equal(typeof cfg.session_config.duration, "number", "session_config.duration is a JSON number");
  for (const key of ["active", "register", "forgot_password", "skip_captcha", "skip_login"]) {
    assert.equal(typeof cfg[key], "boolean", `${key} is a JSON boolean`);
  }
  for (const key of ["display", "name", "subtext", "mobile_image", "desktop_image"]) {
    assert.equal(typeof cfg[key], "string", `${key} is a string (never null)`);
  }
  const walk = (value, path) => {
    assert.notEqual(value, null, `${path} is not null`);
    if (typeof value === "object") for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`);
  };
  walk(cfg, "config");
  return cfg;
}

const state = {};

step("getPlatformConfig answers the defaults on first read", async () => {
  state.user = await connect(env("FDK_CLIENT_ID"), env("FDK_CLIENT_SECRET"));
  const cfg = checkConfig(await state.user.getPlatformConfig());
  assert.equal(cfg.register, true);
  assert.deepEqual(cfg.login, { password: true, otp: true, via: "" });
  assert.deepEqual(cfg.session_config, { duration: 30, type: "Days", is_rolling: false });
  assert.equal(cfg.delete_account_day, 7);
  assert.equal(cfg.__v, 0);
  state.first = cfg;
});

step("updatePlatformConfig merges nested objects and bumps __v", async () => {
  const cfg = checkConfig(await state.user.updatePlatformConfig({
    body: {
      display: "SDK Store",
      session_config: { duration: 12, type: "Hours" },
      flash_card: { text: "Welcome back", text_color: "#000" },
      delete_account_day: 3,
      delete_account_reasons: [{ reason_text: "Not useful", reason_id: "r1", show_text_area: false }],
      social_tokens: { google: { app_id: "google-app", app_secret: "google-secret" } },
    },
  }));
  assert.equal(cfg.display, "SDK Store");
  assert.deepEqual(cfg.session_config, { duration: 12, type: "Hours", is_rolling: false });
  assert.deepEqual(cfg.flash_card, { text: "Welcome back", text_color: "#000", background_color: "#EF5350" });
  assert.equal(cfg.delete_account_day, 3);
  assert.deepEqual(cfg.delete_account_reasons, [{ reason_text: "Not useful", reason_id: "r1", show_text_area: false }]);
  assert.deepEqual(cfg.login, state.first.login, "login untouched");
  assert.equal(cfg.__v, 1);
  assert.equal(cfg._id, state.first._id);
  assert.equal(cfg.social_tokens.google.app_id, "google-app");
  assert.ok(!JSON.stringify(cfg).includes("google-secret"), "the app secret is never returned");
});

step("getPlatformConfig reads the change back, secret masked", async () => {
  const cfg = checkConfig(await state.user.getPlatformConfig());
  assert.equal(cfg.display, "SDK Store");
  assert.equal(cfg.__v, 1);
  assert.ok(!JSON.stringify(cfg).includes("google-secret"), "the app secret is never returned");
  state.read = cfg;
});

step("updatePlatformConfig with bad values is a 400 naming the field; nothing stored", async () => {
  const err = await expectServerError(
    state.user.updatePlatformConfig({ body: { display: "Nope", session_config: { type: "Weeks" } } }),
    400, "an unknown session type");
  assert.ok(err.details.message.includes("session_config.type"), err.details.message);
  const err2 = await expectServerError(
    state.user.updatePlatformConfig({ body: { look_and_feel: { background_color: "blue" } } }),
    400, "a colour that is not #rgb");
  assert.ok(err2.details.message.includes("look_and_feel.background_color"), err2.details.message);
  const cfg = checkConfig(await state.user.getPlatformConfig());
  assert.equal(cfg.display, "SDK Store");
  assert.equal(cfg.__v, 1);
});

step("a read-only client reads the config but cannot update it (403)", async () => {
  const reader = await connect(env("FDK_READONLY_CLIENT_ID"), env("FDK_READONLY_CLIENT_SECRET"));
  const cfg = checkConfig(await reader.getPlatformConfig());
  assert.equal(cfg.display, "SDK Store");
  await expectServerError(reader.updatePlatformConfig({ body: { display: "Reader" } }), 403,
    "update without company/settings/write");
});

// ----------------------------------------------------------------------------- runner

run("SDK platform config");
