#!/usr/bin/env node
/*
 * SDK compatibility check for customer sessions, both sides, with the official Fynd JavaScript SDK
 * (@gofynd/fdk-client-javascript 3.4.2), strictResponseCheck on:
 *  - platform side (PlatformClient): createUserSession, getActiveSessions, deleteSession,
 *    deleteActiveSessions, blockOrUnblockUsers;
 *  - storefront side (ApplicationClient, Authorization: Bearer base64(application_id:token) plus the
 *    f.session cookie): getLoggedInUser, getListOfActiveSessions, logout.
 *
 * Run by tests/test_sdk_sessions.py against a live server with an empty application.
 * Environment: FDK_DOMAIN, FDK_COMPANY_ID, FDK_APPLICATION_ID, FDK_APPLICATION_TOKEN, FDK_CLIENT_ID,
 * FDK_CLIENT_SECRET. Exits 0 when every step passes; otherwise prints the failing step and exits 1.
 */
"use strict";

const assert = require("node:assert/strict");
const {
  OBJECT_ID, LOG_LEVEL, env, expectServerError, step, run, connect,
} = require("./harness");
const { ApplicationConfig, ApplicationClient } = require("@gofynd/fdk-client-javascript");

const DOMAIN = env("FDK_DOMAIN").replace(/\/+$/, "");
const APP_ID = env("FDK_APPLICATION_ID");
const APP_TOKEN = env("FDK_APPLICATION_TOKEN");
const CLIENT_ID = env("FDK_CLIENT_ID");
const CLIENT_SECRET = env("FDK_CLIENT_SECRET");

let user; // the platform client, connected by the first step

/** A storefront client carrying this f.session cookie value (null: no cookie). */
function storefront(cookie, token = APP_TOKEN) {
  const config = new ApplicationConfig(
    { applicationID: APP_ID, applicationToken: token, domain: DOMAIN, logLevel: LOG_LEVEL },
    { strictResponseCheck: true }
  );
  if (cookie) config.setCookie(`f.session=${cookie}`);
  return new ApplicationClient(config).user;
}

/** The session id inside a signed f.session value ("<id>:<signature>"). */
const sessionIdOf = (cookie) => cookie.slice(0, cookie.lastIndexOf(":"));

function checkCreated(res, expected) {
  assert.equal(res.domain, expected.domain, "domain");
  assert.equal(typeof res.max_age, "number", "max_age is a JSON number");
  assert.equal(res.max_age, expected.max_age, "max_age");
  assert.equal(res.secure, true, "secure");
  assert.equal(res.http_only, true, "http_only");
  assert.ok(res.cookie && typeof res.cookie["f.session"] === "string", "cookie carries f.session");
  assert.ok(res.cookie["f.session"].length > 43, "f.session is a signed 256-bit id");
  return res.cookie["f.session"];
}

const state = {};

async function newCustomer(n, first_name) {
  const res = await user.createUser({ body: { phone_number: `98765100${n.toString().padStart(2, "0")}`,
                                              first_name } });
  assert.match(res.user._id, OBJECT_ID);
  return res.user;
}

async function newSession(userId, body = {}) {
  const res = await user.createUserSession({ body: { user_id: userId, domain: "shop.example.com", ...body } });
  return checkCreated(res, { domain: body.domain ?? "shop.example.com", max_age: body.max_age ?? 30 * 24 * 3600 });
}

// ----------------------------------------------------------------------------- scenario

step("platform token (client_credentials)", async () => {
  user = await connect(CLIENT_ID, CLIENT_SECRET);
  state.asha = await newCustomer(1, "Asha");
  state.bilal = await newCustomer(2, "Bilal");
});

step("createUserSession with max_age answers CreateUserSessionResponseSchema", async () => {
  state.cookie = await newSession(state.asha._id, { max_age: 3600 });
});

step("createUserSession without max_age takes the application's lifetime (30 days)", async () => {
  state.cookie2 = await newSession(state.asha._id, { domain: "m.example.com" });
});

step("createUserSession for an unknown customer is a 404", async () => {
  await expectServerError(user.createUserSession({ body: { user_id: "0".repeat(24), domain: "x" } }), 404,
    "session of an unknown customer");
});

step("getActiveSessions lists both sessions (SessionListResponseSchema)", async () => {
  const res = await user.getActiveSessions({ id: state.asha._id });
  assert.ok(Array.isArray(res.items), "items is an array");
  assert.deepEqual(res.items.map((s) => s.session_id).sort(),
    [sessionIdOf(state.cookie), sessionIdOf(state.cookie2)].sort());
  for (const item of res.items) {
    for (const key of ["session_id", "user_agent", "ip", "domain", "expire_in", "location"]) {
      assert.equal(typeof item[key], "string", `${key} is a string`);
    }
  }
  const first = res.items.find((s) => s.session_id === sessionIdOf(state.cookie));
  assert.ok(Number(first.expire_in) > 3500 && Number(first.expire_in) <= 3600, "expire_in: seconds left");
  assert.equal(first.domain, "shop.example.com");
});

step("storefront getLoggedInUser with the cookie returns the customer", async () => {
  const res = await storefront(state.cookie).getLoggedInUser();
  assert.ok(res.user, "answer has user");
  assert.equal(res.user._id, state.asha._id);
  assert.equal(res.user.first_name, "Asha");
  assert.equal(res.user.application_id, APP_ID);
});

step("storefront getListOfActiveSessions lists the customer's sessions", async () => {
  const res = await storefront(state.cookie).getListOfActiveSessions();
  assert.deepEqual([...res.sessions].sort(), [sessionIdOf(state.cookie), sessionIdOf(state.cookie2)].sort());
});

step("storefront refuses a forged cookie, no cookie and a wrong application token (401)", async () => {
  const forged = state.cookie.slice(0, -2) + (state.cookie.endsWith("AA") ? "BB" : "AA");
  await expectServerError(storefront(forged).getLoggedInUser(), 401, "forged cookie");
  await expectServerError(storefront(null).getLoggedInUser(), 401, "no cookie");
  await expectServerError(storefront(state.cookie, "not-the-token").getLoggedInUser(), 401, "wrong app token");
});

step("deleteSession ends one session (SessionDeleteResponseSchema); the storefront then refuses it", async () => {
  const id = sessionIdOf(state.cookie2);
  const res = await user.deleteSession({ id: state.asha._id, sessionId: id, reason: "lost phone" });
  assert.deepEqual(res, { user_id: state.asha._id, session_id: id });
  await expectServerError(storefront(state.cookie2).getLoggedInUser(), 401, "ended session");
  await expectServerError(user.deleteSession({ id: state.asha._id, sessionId: id, reason: "again" }), 404,
    "deleting an ended session");
  assert.equal((await storefront(state.cookie).getLoggedInUser()).user._id, state.asha._id, "the other lives");
});

step("deleteActiveSessions ends them all (SessionsDeleteResponseSchema)", async () => {
  const extra = await newSession(state.asha._id, { max_age: 600 });
  const res = await user.deleteActiveSessions({ id: state.asha._id, reason: "password changed" });
  assert.equal(res.user_id, state.asha._id);
  assert.deepEqual([...res.session_ids].sort(), [sessionIdOf(state.cookie), sessionIdOf(extra)].sort());
  assert.deepEqual((await user.getActiveSessions({ id: state.asha._id })).items, []);
  await expectServerError(storefront(extra).getLoggedInUser(), 401, "session ended by deleteActiveSessions");
});

step("storefront logout ends the session", async () => {
  const cookie = await newSession(state.bilal._id);
  const client = storefront(cookie);
  assert.equal((await client.getLoggedInUser()).user._id, state.bilal._id);
  const res = await client.logout();
  assert.deepEqual(res, { logout: true });
  await expectServerError(client.getLoggedInUser(), 401, "after logout");
});

step("blocking the customer on the platform side makes the storefront call fail (401)", async () => {
  const cookie = await newSession(state.asha._id);
  const client = storefront(cookie);
  assert.equal((await client.getLoggedInUser()).user._id, state.asha._id, "works before the block");
  const res = await user.blockOrUnblockUsers({ body: { status: false, user_id: [state.asha._id], reason: "fraud" } });
  assert.equal(res.success, true);
  await expectServerError(client.getLoggedInUser(), 401, "blocked customer");
  assert.deepEqual((await user.getActiveSessions({ id: state.asha._id })).items, [],
    "blocking ended the customer's sessions");
  await expectServerError(user.createUserSession({ body: { user_id: state.asha._id, domain: "x" } }), 409,
    "session for a blocked customer");
});

// ----------------------------------------------------------------------------- runner

run("SDK compatibility");
