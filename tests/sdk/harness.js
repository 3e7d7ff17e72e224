/*
 * What every SDK scenario in this folder shares: environment, error description, the check of an
 * expected server error, and a step runner that stops at the first failing step (exit 1).
 */
"use strict";

const assert = require("node:assert/strict");

const OBJECT_ID = /^[0-9a-f]{24}$/;
const ISO_MS_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const LOG_LEVEL = process.env.FDK_LOG_LEVEL || "SILENT"; // the SDK logs every HTTP error otherwise

function env(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`missing environment variable ${name}`);
    process.exit(2);
  }
  return value;
}

/** Describes an SDK error with everything useful for debugging. */
function describe(err) {
  if (!err || typeof err !== "object") return String(err);
  if (err instanceof assert.AssertionError || !String(err.name || "").startsWith("FDK")) {
    return err.stack || `${err.name}: ${err.message}`; // the stack starts with the message
  }
  const parts = [`${err.name}: ${err.message}`];
  if (err.name === "FDKServerResponseError") {
    // The SDK builds it as (message, stack, statusText, statusCode, responseData).
    parts.push(`  HTTP ${err.code} ${err.status}`);
    parts.push(`  body: ${JSON.stringify(err.details)}`);
  } else if (err.details !== undefined) {
    parts.push(`  details: ${JSON.stringify(err.details, null, 2)}`);
  }
  return parts.join("\n");
}

/** Resolves to the SDK error of a call that must be refused by the server with `status` and a JSON error body. */
async function expectServerError(promise, status, what) {
  let result;
  try {
    result = await promise;
  } catch (err) {
    assert.equal(err.name, "FDKServerResponseError",
      `${what}: expected an HTTP ${status} from the server, got ${describe(err)}`);
    // FDKServerResponseError(message, stack, statusText, statusCode, responseData): `code` is the HTTP status.
    assert.equal(err.code, status, `${what}: expected HTTP ${status}, got ${err.code} ${err.status}: ` +
      JSON.stringify(err.details));
    assert.ok(err.details && typeof err.details === "object",
      `${what}: the error body should be a JSON object, got ${JSON.stringify(err.details)}`);
    assert.equal(typeof err.details.message, "string", `${what}: error body lacks "message"`);
    assert.ok(err.details.message.length > 0, `${what}: error "message" is empty`);
    assert.equal(typeof err.details.code, "string", `${what}: error body lacks "code"`);
    assert.equal(err.message, err.details.message, `${what}: the SDK surfaces the body's message`);
    return err;
  }
  assert.fail(`${what}: expected HTTP ${status}, but the call succeeded with ${JSON.stringify(result)}`);
}

const steps = [];

function step(name, fn) {
  steps.push({ name, fn });
}

/** Runs the registered steps in order; prints ok/FAIL per step and exits 1 at the first failure. */
function run(label) {
  (async () => {
    const started = Date.now();
    for (const { name, fn } of steps) {
      try {
        await fn();
        console.log(`ok   ${name}`);
      } catch (err) {
        console.log(`FAIL ${name}`);
        console.error(`\n${label} step failed: ${name}\n${describe(err)}`);
        process.exit(1);
      }
    }
    console.log(`all ${steps.length} steps passed in ${Date.now() - started} ms`);
  })().catch((err) => {
    console.error(describe(err));
    process.exit(1);
  });
}

/** A PlatformConfig for FDK_DOMAIN / FDK_COMPANY_ID with the strict response check on. */
function platformConfig(clientId, clientSecret, overrides = {}) {
  const { PlatformConfig } = require("@gofynd/fdk-client-javascript");
  return new PlatformConfig(
    {
      companyId: env("FDK_COMPANY_ID"),
      domain: env("FDK_DOMAIN").replace(/\/+$/, ""),
      apiKey: clientId,
      apiSecret: clientSecret,
      useAutoRenewTimer: false,
      logLevel: LOG_LEVEL,
      ...overrides,
    },
    { strictResponseCheck: true }
  );
}

/** The platform User client of FDK_APPLICATION_ID, with a client_credentials token already set. */
async function connect(clientId, clientSecret) {
  const { PlatformClient } = require("@gofynd/fdk-client-javascript");
  const config = platformConfig(clientId, clientSecret);
  const token = await config.oauthClient.getAccesstokenObj({ grant_type: "client_credentials" });
  config.oauthClient.setToken(token);
  // As OAuthClient.verifyCallback does after setToken (setToken alone leaves token_expires_at at 0).
  config.oauthClient.token_expires_at = Date.now() + token.expires_in * 1000;
  return new PlatformClient(config).application(env("FDK_APPLICATION_ID")).user;
}

module.exports = {
  OBJECT_ID, ISO_MS_Z, LOG_LEVEL, env, describe, expectServerError, step, run, platformConfig, connect,
};
