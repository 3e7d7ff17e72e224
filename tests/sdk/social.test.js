#!/usr/bin/env node
/*
 * Social sign-in with the official Fynd JavaScript SDK's ApplicationClient (3.4.2): loginWithGoogle,
 * loginWithGoogleAndroid, loginWithGoogleIOS, loginWithFacebook and loginWithAppleIOS against a live server
 * whose provider URLs point at a local stand-in (tests/oauth_provider.py); every answer validated against
 * the spec's Joi model (AuthSuccess, UserObjectSchema …) by storefront_harness.js. The platform config is
 * set through the platform SDK (updatePlatformConfig with social_tokens.apple, strict response check on).
 *
 * Run by tests/sdk/test_social_sdk.py. Environment: the runner's FDK_* plus FDK_SOCIAL (JSON: the client
 * ids and the tokens the stand-in signed).
 */
"use strict";

const assert = require("node:assert/strict");
const { env, expectServerError, step, run, connect } = require("./harness");
const { shopper } = require("./storefront_harness");

const APP_ID = env("FDK_APPLICATION_ID");
const S = JSON.parse(env("FDK_SOCIAL"));
const state = {};

step("updatePlatformConfig turns Google, Facebook and Apple on (the platform answer has no apple key)", async () => {
  const platform = await connect(env("FDK_CLIENT_ID"), env("FDK_CLIENT_SECRET"));
  const config = await platform.updatePlatformConfig({ body: {
    social: { google: true, facebook: true, apple: true },
    social_tokens: { google: { app_id: S.google_client_ids }, facebook: { app_id: S.facebook_app_id,
                     app_secret: S.facebook_secret }, apple: { app_id: S.apple_client_id } },
    register_required_fields: { mobile: { is_required: false, level: "hard" } } } });
  assert.equal(config.social.apple, true);
  assert.equal(config.social_tokens.apple, undefined);
  const shown = await shopper().getPlatformConfig({ name: APP_ID });
  assert.deepEqual(shown.social_tokens.apple, { app_id: S.apple_client_id });
});

step("loginWithGoogle with an ID token signs up; getLoggedInUser answers the customer", async () => {
  const client = shopper();
  const answer = await client.loginWithGoogle({ body: { oauth2: { access_token: S.google_id_token },
                                                        profile: { email: "spoofed@example.com" } }, platform: APP_ID });
  assert.equal(answer.user_exists, false);
  assert.equal(answer.user.emails[0].email, "asha@example.com");
  assert.ok(client.cookies.has("f.session"));
  const me = await client.getLoggedInUser();
  assert.equal(me.user._id, answer.user._id);
  state.asha = answer.user;
});

step("loginWithGoogleAndroid / loginWithGoogleIOS sign the same customer in", async () => {
  for (const method of ["loginWithGoogleAndroid", "loginWithGoogleIOS"]) {
    const answer = await shopper()[method]({ body: { oauth2: { access_token: S.google_id_token } }, platform: APP_ID });
    assert.equal(answer.user_exists, true, method);
    assert.equal(answer.user._id, state.asha._id, method);
  }
});

step("a Google token for another app is a 401", async () => {
  await expectServerError(shopper().loginWithGoogle({ body: { oauth2: { access_token: S.google_other_aud } } }),
    401, "a token issued for another client id");
});

step("loginWithFacebook checks the token with debug_token and /me", async () => {
  const answer = await shopper().loginWithFacebook({ body: { oauth2: { access_token: S.facebook_token } } });
  assert.equal(answer.user.first_name, "Eve");
  assert.equal(answer.user.emails[0].email, "eve@example.com");
});

step("loginWithAppleIOS with a nonce; the name comes from the app", async () => {
  const answer = await shopper().loginWithAppleIOS({ body: {
    user_identifier: "001234.abcdef", oauth: { identity_token: S.apple_token, nonce: S.apple_nonce },
    profile: { first_name: "Dev", last_name: "Iyer", full_name: "Dev Iyer" } }, platform: APP_ID });
  assert.equal(answer.user_exists, false);
  assert.equal(answer.user.first_name, "Dev");
  await expectServerError(shopper().loginWithAppleIOS({ body: {
    oauth: { identity_token: S.apple_token, nonce: "another" } } }), 401, "a nonce the token was not issued for");
});

run("SDK social sign-in");
