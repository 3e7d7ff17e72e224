/*
 * What the storefront SDK scenarios share: an ApplicationClient (@gofynd/fdk-client-javascript 3.4.2)
 * whose every answer is validated against the spec's Joi model named in the SDK client's JSDoc, a
 * cookie jar for it, and the inbox where the test's SMTP server and SMS receiver keep what the
 * service sent.
 *
 * Cookies: the SDK sends `config.cookie` as the Cookie header (ApplicationAPIClient.execute) but never
 * reads Set-Cookie (axios' withCredentials does nothing in Node). So each call asks the SDK for the
 * response headers ({ responseHeaders: true }, answer [data, headers]) and the jar keeps what the
 * server set, as a browser would: a cookie set with Max-Age=0 or an expiry in the past is dropped.
 *
 * Environment: FDK_DOMAIN, FDK_APPLICATION_ID, FDK_APPLICATION_TOKEN, FDK_INBOX (base URL of the inbox,
 * tests/sdk/inbox.py), FDK_SPEC_DIR (optional; default ../shared/spec/storefront beside the clone).
 */
"use strict";

const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const Module = require("node:module");
const { LOG_LEVEL, env } = require("./harness");
const { ApplicationConfig, ApplicationClient } = require("@gofynd/fdk-client-javascript");

const SPEC_DIR = process.env.FDK_SPEC_DIR || path.resolve(__dirname, "..", "..", "..", "shared", "spec", "storefront");
const SDK_USER_CLIENT = require.resolve(
  "@gofynd/fdk-client-javascript/sdk/application/User/UserApplicationClient.js");
/** Answer models the SDK names but the spec's model file does not define, and the model that stands for them. */
const MODEL_ALIASES = { VerifyPrimaryOTPSuccess: "VerifyOtpSuccess" };

/** The spec's UserApplicationModel, its `require("joi")` answered from this folder's node_modules. */
function loadModels() {
  const file = path.join(SPEC_DIR, "UserApplicationModel.js");
  if (!fs.existsSync(file)) {
    console.error(`${file} is missing: the spec (../shared/spec) must sit beside the clone, or set FDK_SPEC_DIR`);
    process.exit(2);
  }
  const loaded = new Module(file, module);
  loaded.filename = file;
  loaded.paths = [path.join(__dirname, "node_modules"), ...Module._nodeModulePaths(path.dirname(file))];
  loaded._compile(fs.readFileSync(file, "utf8"), file);
  return loaded.exports;
}

/** method name -> the answer model its JSDoc names (`@returns {Promise<Model>}`), from the SDK's own source. */
function answerModelNames() {
  const source = fs.readFileSync(SDK_USER_CLIENT, "utf8");
  const names = {};
  for (const [, model, method] of source.matchAll(/@returns \{Promise<(\w+)>\}[\s\S]*?\n {2}async (\w+)\(/g)) {
    names[method] = MODEL_ALIASES[model] || model;
  }
  return names;
}

const MODELS = loadModels();
const ANSWER_MODELS = answerModelNames();

/** Checks `answer` against the spec model of `method`: JSON types as they are (no conversion), extra keys allowed. */
function validateAnswer(method, answer) {
  const name = ANSWER_MODELS[method];
  assert.ok(name, `the SDK client has no method ${method}`);
  if (name === "any") return answer;
  assert.equal(typeof MODELS[name], "function", `the spec has no model ${name} (answer of ${method})`);
  const { error } = MODELS[name]().validate(answer, { allowUnknown: true, convert: false, abortEarly: false });
  assert.ok(!error, `${method} answer does not match ${name}: ${error && error.message}\n` +
    `answer: ${JSON.stringify(answer)}`);
  return answer;
}

/** Parses one Set-Cookie value: [name, value, expired]. */
function parseSetCookie(header) {
  const [pair, ...attributes] = header.split(";").map((part) => part.trim());
  const at = pair.indexOf("=");
  const name = pair.slice(0, at);
  const value = pair.slice(at + 1).replace(/^"(.*)"$/, "$1");
  let expired = false;
  for (const attribute of attributes) {
    const [key, raw = ""] = attribute.split("=");
    if (key.toLowerCase() === "max-age" && Number(raw) <= 0) expired = true;
    if (key.toLowerCase() === "expires" && Date.parse(raw) <= Date.now()) expired = true;
  }
  return [name, value, expired];
}

/**
 * A shopper's storefront: the SDK's ApplicationClient `user` module behind a proxy that carries the
 * cookies between calls and validates each answer. `shopper.cookies` is the jar (name -> value).
 */
function shopper(token = env("FDK_APPLICATION_TOKEN")) {
  const config = new ApplicationConfig(
    { applicationID: env("FDK_APPLICATION_ID"), applicationToken: token,
      domain: env("FDK_DOMAIN").replace(/\/+$/, ""), logLevel: LOG_LEVEL },
    { strictResponseCheck: true }
  );
  const user = new ApplicationClient(config).user;
  const cookies = new Map();
  const keep = (headers) => {
    for (const header of [].concat((headers && headers["set-cookie"]) || [])) {
      const [name, value, expired] = parseSetCookie(header);
      if (expired || value === "") cookies.delete(name);
      else cookies.set(name, value);
    }
    config.setCookie([...cookies].map(([name, value]) => `${name}=${value}`).join("; ") || undefined);
  };
  return new Proxy(user, {
    get(target, name) {
      if (name === "cookies") return cookies;
      if (name === "signOutLocally") return () => { cookies.clear(); keep(); };
      const method = target[name];
      if (typeof method !== "function") return method;
      return async (args = {}) => {
        const [answer, headers] = await method.call(target, { requestHeaders: {}, ...args },
          { responseHeaders: true });
        keep(headers);
        return validateAnswer(name, answer);
      };
    },
  });
}

/** What the test's SMTP server and SMS receiver hold for one address (email or +E.164 mobile), oldest first. */
async function messagesTo(address) {
  const response = await fetch(`${env("FDK_INBOX")}/messages?to=${encodeURIComponent(address)}`);
  assert.equal(response.status, 200, `inbox: HTTP ${response.status}`);
  return (await response.json()).texts;
}

/** The one-time code of the latest message to `address`; it must be there already (delivered in the request). */
async function codeSentTo(address) {
  const texts = await messagesTo(address);
  assert.ok(texts.length > 0, `nothing was delivered to ${address} by the time the request answered`);
  const match = /\b(\d{4,6})\b/.exec(texts[texts.length - 1]);
  assert.ok(match, `no code in the latest message to ${address}: ${texts[texts.length - 1]}`);
  return match[1];
}

/** The code of the reset link in the latest message to `address`. */
async function resetLinkCodeSentTo(address) {
  const texts = await messagesTo(address);
  assert.ok(texts.length > 0, `nothing was delivered to ${address} by the time the request answered`);
  const match = /reset-password\?code=([A-Za-z0-9_-]+)/.exec(texts[texts.length - 1]);
  assert.ok(match, `no reset link in the latest message to ${address}: ${texts[texts.length - 1]}`);
  return match[1];
}

/**
 * A sign-in token for customer `userId` from the platform operation issueSignInToken (this service's extension:
 * no SDK method), as a merchant's backend would get it: an access token by client credentials, then a plain POST.
 */
async function issueSignInToken(userId, body = {}) {
  const domain = env("FDK_DOMAIN").replace(/\/+$/, "");
  const company = env("FDK_COMPANY_ID");
  const basic = Buffer.from(`${env("FDK_CLIENT_ID")}:${env("FDK_CLIENT_SECRET")}`).toString("base64");
  const granted = await fetch(`${domain}/service/panel/authentication/v1.0/company/${company}/oauth/token`, {
    method: "POST", body: "grant_type=client_credentials",
    headers: { Authorization: `Basic ${basic}`, "Content-Type": "application/x-www-form-urlencoded" } });
  assert.equal(granted.status, 200, `oauth token: HTTP ${granted.status}`);
  const { access_token: accessToken } = await granted.json();
  const response = await fetch(`${domain}/service/platform/user/v1.0/company/${company}/application/` +
    `${env("FDK_APPLICATION_ID")}/customers/${userId}/sign_in_token`, {
    method: "POST", body: JSON.stringify(body),
    headers: { Authorization: `Bearer ${accessToken}`, "Content-Type": "application/json" } });
  assert.equal(response.status, 200, `issueSignInToken: HTTP ${response.status}`);
  const issued = await response.json();
  assert.ok(typeof issued.token === "string" && issued.token.length >= 43, "a 256-bit token");
  assert.ok(Number.isInteger(issued.expires_in) && issued.expires_in > 0, "expires_in");
  assert.ok(Date.parse(issued.expires_at) > Date.now(), "expires_at is ahead");
  return issued.token;
}

module.exports = { shopper, validateAnswer, messagesTo, codeSentTo, resetLinkCodeSentTo, issueSignInToken,
                   ANSWER_MODELS };
