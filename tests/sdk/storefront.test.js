#!/usr/bin/env node
/*
 * Storefront account scenarios with the official Fynd JavaScript SDK's ApplicationClient
 * (@gofynd/fdk-client-javascript 3.4.2): sign-up with a verified mobile, password and one-time-code
 * sign-in, an unknown mobile registering through its register_token, password change, forgotten
 * passwords (reset link by email, code by SMS), the v2.0 primary email change, and account deletion.
 * Every answer is validated against the spec's Joi model the SDK names for the method
 * (storefront_harness.js); codes and links are read from what the test's SMTP server and SMS receiver
 * got, with no waiting: the service must have delivered them in the request that sent them.
 *
 * Run by tests/sdk/test_storefront_sdk.py against a live server with an empty application.
 * Environment: FDK_DOMAIN, FDK_APPLICATION_ID, FDK_APPLICATION_TOKEN, FDK_INBOX (FDK_SPEC_DIR optional).
 * Exits 0 when every step passes; otherwise prints the failing step and exits 1.
 */
"use strict";

const assert = require("node:assert/strict");
const { OBJECT_ID, env, expectServerError, step, run, connect } = require("./harness");
const { shopper, messagesTo, codeSentTo, resetLinkCodeSentTo, issueSignInToken } = require("./storefront_harness");

const APP_ID = env("FDK_APPLICATION_ID");
const COOKIE = "f.session";

const ASHA = { email: "asha@example.com", mobile: "9876500001", e164: "+919876500001", password: "Correct-horse-9" };
const BALA = { mobile: "9876500002", e164: "+919876500002", password: "Bala-secret-77" };
const CHITRA = { email: "chitra@example.com", mobile: "9876500003", e164: "+919876500003",
                 passwords: ["Chitra-first-31", "Chitra-second-42", "Chitra-third-53", "Chitra-fourth-64"] };
const DEV = { mobile: "9876500004", e164: "+919876500004" };
const ESHA = { mobile: "9876500005", e164: "+919876500005" };
const NEW_EMAIL = "asha.rao@example.com";

const state = {};

function checkUser(user, expected = {}) {
  assert.match(user._id, OBJECT_ID, "_id is a 24-hex ObjectId");
  assert.equal(user.application_id, APP_ID, "application_id");
  for (const [key, value] of Object.entries(expected)) assert.deepEqual(user[key], value, `user.${key}`);
  return user;
}

/** A code of the same length that is not `code`. */
const wrong = (code) => (code[0] === "1" ? "2" : "1") + code.slice(1);

const signedIn = (client) => client.cookies.has(COOKIE);

async function signUp(client, person, names) {
  const sent = await client.registerWithForm({ body: {
    ...names, email: person.email, password: person.password || person.passwords[0],
    phone: { country_code: "91", mobile: person.mobile } } });
  assert.equal(sent.success, true);
  assert.equal(sent.verify_mobile_otp, true, "the mobile must be verified (level hard by default)");
  assert.equal(sent.mobile, person.mobile);
  assert.equal(sent.country_code, "91");
  assert.ok(sent.request_id && sent.register_token, "request_id and register_token");
  assert.ok(!signedIn(client), "not signed in before the mobile is verified");
  const verified = await client.verifyMobileOTP({ body: {
    request_id: sent.request_id, otp: await codeSentTo(person.e164), register_token: sent.register_token } });
  assert.equal(verified.user_exists, true);
  assert.ok(signedIn(client), "verifyMobileOTP set the f.session cookie");
  return checkUser(verified.user, { first_name: names.first_name });
}

async function signsInWith(username, password) {
  const client = shopper();
  const answer = await client.loginWithEmailAndPassword({ body: { username, password } });
  assert.ok(signedIn(client), "loginWithEmailAndPassword set the f.session cookie");
  return { client, user: answer.user };
}

// ----------------------------------------------------------------------------- 1. sign-up

step("registerWithForm (email, password, mobile) + verifyMobileOTP with the register_token signs in", async () => {
  const client = shopper();
  state.asha = await signUp(client, ASHA, { first_name: "Asha", last_name: "Rao" });
  assert.deepEqual(state.asha.phone_numbers,
    [{ phone: ASHA.mobile, country_code: 91, active: true, primary: true, verified: true }]);
  assert.equal(state.asha.emails[0].email, ASHA.email);
});

step("getLoggedInUser with the session cookie answers the new customer", async () => {
  const client = shopper();
  await client.loginWithEmailAndPassword({ body: { username: ASHA.email, password: ASHA.password } });
  const me = await client.getLoggedInUser();
  checkUser(me.user, { _id: state.asha._id, first_name: "Asha", last_name: "Rao" });
});

// ----------------------------------------------------------------------------- 2. password, hasPassword, logout

step("loginWithEmailAndPassword by email and by mobile; a wrong password is a 401", async () => {
  const { client, user } = await signsInWith(ASHA.email, ASHA.password);
  assert.equal(user._id, state.asha._id);
  assert.equal((await signsInWith(ASHA.mobile, ASHA.password)).user._id, state.asha._id);
  await expectServerError(shopper().loginWithEmailAndPassword({ body: { username: ASHA.email, password: "nope" } }),
    401, "wrong password");
  state.ashaClient = client;
});

step("hasPassword answers result 1; logout ends the session and clears the cookie", async () => {
  const client = state.ashaClient;
  assert.deepEqual(await client.hasPassword(), { result: 1 });
  assert.deepEqual(await client.logout(), { logout: true });
  assert.ok(!signedIn(client), "logout removed the f.session cookie");
  await expectServerError(client.getLoggedInUser(), 401, "after logout");
});

step("loginWithToken with a platform-issued sign-in token signs in, once", async () => {
  const token = await issueSignInToken(state.asha._id, { expires_in: 120 });
  const client = shopper();
  const answer = await client.loginWithToken({ body: { token } });
  checkUser(answer.user, { _id: state.asha._id, first_name: "Asha" });
  assert.ok(signedIn(client), "loginWithToken set the f.session cookie");
  assert.equal((await client.getLoggedInUser()).user._id, state.asha._id);
  await expectServerError(shopper().loginWithToken({ body: { token } }), 401, "a used token");
});

// ----------------------------------------------------------------------------- 3. one-time code sign-in
// A sign-up's code and a sign-in's share the purpose "login", whose resend timer runs per mobile: these
// customers are created on the platform side, so no code has been sent to them yet.

async function signsInWithCode(client, send, person, name) {
  const sent = await send({ body: { mobile: person.mobile, country_code: "91", action: "send" }, platform: APP_ID });
  assert.equal(sent.success, true);
  assert.ok(sent.request_id, "request_id");
  assert.ok(sent.resend_timer > 0, "resend_timer");
  const code = await codeSentTo(person.e164);
  await expectServerError(client.verifyMobileOTP({ body: { request_id: sent.request_id, otp: wrong(code) } }), 400,
    "a wrong code");
  const done = await client.verifyMobileOTP({ body: { request_id: sent.request_id, otp: code } });
  assert.equal(done.user_exists, true);
  assert.equal(done.user.first_name, name);
  assert.ok(signedIn(client), "verifyMobileOTP set the f.session cookie");
  assert.equal((await client.getLoggedInUser()).user._id, done.user._id);
}

step("loginWithOTP + verifyMobileOTP sign a known customer in", async () => {
  const platform = await connect(env("FDK_CLIENT_ID"), env("FDK_CLIENT_SECRET"));
  for (const [person, name] of [[DEV, "Dev"], [ESHA, "Esha"]]) {
    await platform.createUser({ body: { phone_number: person.mobile, first_name: name } });
  }
  const client = shopper();
  await signsInWithCode(client, client.loginWithOTP, DEV, "Dev");
});

step("sendOTPOnMobile + verifyMobileOTP sign a known customer in", async () => {
  const client = shopper();
  await signsInWithCode(client, client.sendOTPOnMobile, ESHA, "Esha");
});

// ----------------------------------------------------------------------------- 4. unknown mobile

step("an unknown mobile: loginWithOTP + verifyMobileOTP answer user_exists false and a register_token", async () => {
  const client = shopper();
  const sent = await client.loginWithOTP({ body: { mobile: BALA.mobile, country_code: "91" } });
  const answer = await client.verifyMobileOTP({ body: { request_id: sent.request_id,
                                                        otp: await codeSentTo(BALA.e164) } });
  assert.equal(answer.user_exists, false);
  assert.ok(answer.register_token, "register_token");
  assert.ok(!signedIn(client), "not signed in yet");
  state.balaClient = client;
  state.balaToken = answer.register_token;
});

step("registerWithForm with the register_token creates the customer, mobile verified, signed in", async () => {
  const client = state.balaClient;
  const done = await client.registerWithForm({ body: { first_name: "Bala", password: BALA.password,
                                                       register_token: state.balaToken } });
  assert.equal(done.verify_mobile_otp, false, "the mobile is verified already");
  assert.ok(signedIn(client), "signed in");
  state.bala = checkUser((await client.getLoggedInUser()).user, { first_name: "Bala" });
  assert.deepEqual(state.bala.phone_numbers,
    [{ phone: BALA.mobile, country_code: 91, active: true, primary: true, verified: true }]);
  await expectServerError(shopper().registerWithForm({ body: { first_name: "Again", password: BALA.password,
                                                               register_token: state.balaToken } }),
    400, "a register_token used twice");
});

// ----------------------------------------------------------------------------- 5. updatePassword

step("a second customer signs up (registerWithForm + verifyMobileOTP)", async () => {
  state.chitraClient = shopper();
  state.chitra = await signUp(state.chitraClient, CHITRA, { first_name: "Chitra" });
});

step("updatePassword changes the password; the new one signs in and the old one no more", async () => {
  const [first, second] = CHITRA.passwords;
  await expectServerError(state.chitraClient.updatePassword({ body: { old_password: "wrong", new_password: second } }),
    401, "a wrong old password");
  const answer = await state.chitraClient.updatePassword({ body: { old_password: first, new_password: second } });
  assert.equal(typeof answer.message, "string");
  assert.equal((await signsInWith(CHITRA.email, second)).user._id, state.chitra._id);
  await expectServerError(shopper().loginWithEmailAndPassword({ body: { username: CHITRA.email, password: first } }),
    401, "the old password");
});

// ----------------------------------------------------------------------------- 6. forgotten password

step("sendResetPasswordEmail + the emailed link's code + forgotPassword sets the password and signs in", async () => {
  const third = CHITRA.passwords[2];
  const client = shopper();
  const before = (await messagesTo(CHITRA.email)).length;
  assert.deepEqual(await client.sendResetPasswordEmail({ body: { email: CHITRA.email }, platform: APP_ID }),
    { status: "sent" });
  assert.equal((await messagesTo(CHITRA.email)).length, before + 1, "the reset email arrived in the request");
  const code = await resetLinkCodeSentTo(CHITRA.email);
  assert.deepEqual(await client.sendResetToken({ body: { code } }), { status: "success" });
  const done = await client.forgotPassword({ body: { code, password: third } });
  assert.equal(done.user._id, state.chitra._id);
  assert.ok(signedIn(client), "forgotPassword signs in");
  await expectServerError(state.chitraClient.getLoggedInUser(), 401, "a session from before the reset");
  await expectServerError(shopper().forgotPassword({ body: { code, password: CHITRA.passwords[3] } }), 400,
    "a reset code used twice");
  assert.equal((await signsInWith(CHITRA.email, third)).user._id, state.chitra._id);
});

step("sendForgotOTPOnMobile + verifyMobileForgotOTP + resetForgotPassword sets the password", async () => {
  const fourth = CHITRA.passwords[3];
  const client = shopper();
  const sent = await client.sendForgotOTPOnMobile({ body: { mobile: CHITRA.mobile, country_code: "91",
                                                            action: "send" } });
  assert.equal(sent.success, true);
  assert.ok(sent.request_id, "request_id");
  const verified = await client.verifyMobileForgotOTP({ body: { request_id: sent.request_id,
                                                                otp: await codeSentTo(CHITRA.e164) } });
  assert.equal(verified.success, true);
  assert.ok(verified.forgot_token, "forgot_token");
  assert.deepEqual(await client.resetForgotPassword({ body: { code: verified.forgot_token, password: fourth } }),
    { success: true });
  assert.ok(!signedIn(client), "resetForgotPassword does not sign in");
  assert.equal((await signsInWith(CHITRA.mobile, fourth)).user._id, state.chitra._id);
  await expectServerError(shopper().loginWithEmailAndPassword({
    body: { username: CHITRA.email, password: CHITRA.passwords[2] } }), 401, "the password before");
});

// ----------------------------------------------------------------------------- 7. primary email (v2.0)

step("sendOTPForUpdate is refused until the primary mobile is re-verified", async () => {
  state.ashaClient = (await signsInWith(ASHA.email, ASHA.password)).client;
  await expectServerError(state.ashaClient.sendOTPForUpdate({ entity: "email", body: { email: NEW_EMAIL } }), 403,
    "no proof of the primary");
});

step("sendOTPOnPrimary + verifyOTPonPrimary re-verify the primary mobile", async () => {
  const client = state.ashaClient;
  const sent = await client.sendOTPOnPrimary({ entity: "mobile",
                                               body: { mobile: ASHA.mobile, country_code: "91" } });
  assert.equal(sent.mobile, ASHA.mobile);
  assert.ok(sent.request_id, "request_id");
  const proof = await client.verifyOTPonPrimary({ entity: "mobile", body: { request_id: sent.request_id,
                                                                            otp: await codeSentTo(ASHA.e164) } });
  assert.equal(proof.user_exists, true);
  assert.equal(proof.user._id, state.asha._id);
});

step("sendOTPForUpdate + verifyOTPForUpdate make the new email the verified primary", async () => {
  const client = state.ashaClient;
  const sent = await client.sendOTPForUpdate({ entity: "email", body: { email: NEW_EMAIL } });
  assert.ok(sent.request_id, "request_id");
  const done = await client.verifyOTPForUpdate({ entity: "email",
                                                 body: { email: NEW_EMAIL, otp: await codeSentTo(NEW_EMAIL) } });
  assert.equal(done.user_exists, true);
  assert.deepEqual(done.user.emails.find((e) => e.primary),
    { email: NEW_EMAIL, primary: true, verified: true, active: true });
  assert.equal((await client.getLoggedInUser()).user.emails.find((e) => e.primary).email, NEW_EMAIL);
  assert.equal((await signsInWith(NEW_EMAIL, ASHA.password)).user._id, state.asha._id);
});

// ----------------------------------------------------------------------------- 8. deleteUser

step("deleteUser without the otp sends a code; with it the account is deleted and signed out", async () => {
  const client = state.balaClient;
  const sent = await client.deleteUser({ body: { user_id: state.bala._id, reason: "moving away" } });
  assert.equal(sent.success, true);
  assert.ok(sent.request_id, "request_id");
  const code = await codeSentTo(BALA.e164);
  await expectServerError(client.deleteUser({ body: { user_id: state.bala._id, request_id: sent.request_id,
                                                      otp: wrong(code) } }), 400, "a wrong code");
  const done = await client.deleteUser({ body: { user_id: state.bala._id, request_id: sent.request_id, otp: code,
                                                 reason: "moving away" } });
  assert.deepEqual(done, { success: true });
  await expectServerError(client.getLoggedInUser(), 401, "the deleted customer's session");
  await expectServerError(shopper().loginWithEmailAndPassword({ body: { username: BALA.mobile,
                                                                        password: BALA.password } }),
    401, "signing in to a deleted account");
});

// ----------------------------------------------------------------------------- runner

run("SDK storefront");
