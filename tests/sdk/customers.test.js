#!/usr/bin/env node
/*
 * SDK compatibility check: drives the service with the official Fynd JavaScript SDK
 * (@gofynd/fdk-client-javascript 3.4.2) with strictResponseCheck on, so every response is
 * validated against the SDK's Joi schemas (sdk/platform/User/UserPlatformModel.js) and a
 * mismatch rejects the call.
 *
 * Run by tests/test_sdk_compat.py against a live server with an empty application.
 * Environment: FDK_DOMAIN, FDK_COMPANY_ID, FDK_APPLICATION_ID, FDK_CLIENT_ID, FDK_CLIENT_SECRET.
 * Exits 0 when every step passes; otherwise prints the failing step and exits 1.
 */
"use strict";

const assert = require("node:assert/strict");
const {
  OBJECT_ID, ISO_MS_Z, env, expectServerError, step, run, platformConfig,
} = require("./harness");
const { PlatformClient } = require("@gofynd/fdk-client-javascript");

const APP_ID = env("FDK_APPLICATION_ID");
const CLIENT_ID = env("FDK_CLIENT_ID");
const CLIENT_SECRET = env("FDK_CLIENT_SECRET");

/** The SDK logs every HTTP error (with the request's headers); expected errors would drown the report:
 * failures are described by this script, FDK_LOG_LEVEL=DEBUG shows the SDK's own log. */
const makeConfig = (overrides = {}) => platformConfig(CLIENT_ID, CLIENT_SECRET, overrides);

function checkUser(user, expected = {}) {
  assert.ok(user && typeof user === "object", `user should be an object, got ${JSON.stringify(user)}`);
  assert.match(user._id, OBJECT_ID, "_id is a 24-hex ObjectId");
  assert.equal(user.user_id, user._id, "user_id equals _id");
  assert.equal(user.application_id, APP_ID, "application_id");
  assert.match(user.created_at, ISO_MS_Z, "created_at is ISO 8601 UTC with milliseconds");
  assert.match(user.updated_at, ISO_MS_Z, "updated_at is ISO 8601 UTC with milliseconds");
  assert.equal(typeof user.active, "boolean", "active is a boolean");
  assert.ok(Array.isArray(user.emails), "emails is an array");
  assert.ok(Array.isArray(user.phone_numbers), "phone_numbers is an array");
  // Joi converts by default, so the SDK itself would accept "91" or "true": check the JSON types here.
  for (const phone of user.phone_numbers) {
    assert.equal(typeof phone.phone, "string", "phone is a string");
    assert.equal(typeof phone.country_code, "number", "phone country_code is a JSON number in responses");
    for (const flag of ["active", "primary", "verified"]) {
      assert.equal(typeof phone[flag], "boolean", `phone ${flag} is a JSON boolean`);
    }
  }
  for (const email of user.emails) {
    assert.equal(typeof email.email, "string", "email is a string");
    for (const flag of ["active", "primary", "verified"]) {
      assert.equal(typeof email[flag], "boolean", `email ${flag} is a JSON boolean`);
    }
  }
  for (const [key, value] of Object.entries(expected)) {
    assert.deepEqual(user[key], value, `user.${key}`);
  }
  return user;
}

function checkPage(page, expected) {
  assert.ok(page && typeof page === "object", `page should be an object, got ${JSON.stringify(page)}`);
  for (const key of ["current", "size", "item_total"]) {
    assert.equal(typeof page[key], "number", `page.${key} is a JSON number`);
  }
  assert.equal(typeof page.has_next, "boolean", "page.has_next is a JSON boolean");
  assert.equal(page.type, "number", 'page.type is "number"');
  for (const [key, value] of Object.entries(expected)) {
    assert.equal(page[key], value, `page.${key}`);
  }
}

/** A customers/list answer: its page, and every item a well-formed customer. */
function checkList(res, expectedPage) {
  assert.ok(Array.isArray(res.items), "items is an array");
  res.items.forEach((u) => checkUser(u));
  for (const u of res.items) {
    assert.equal(typeof u.archive, "boolean", "list items carry the archive flag");
    assert.equal(u.archive, false, "customers/list shows live customers only");
  }
  checkPage(res.page, expectedPage);
  return res;
}

/** A customers/search answer: every user a well-formed customer. */
function checkSearch(res) {
  assert.ok(res && Array.isArray(res.users), `users should be an array, got ${JSON.stringify(res)}`);
  res.users.forEach((u) => checkUser(u));
  return res;
}

const ids = (users) => users.map((u) => u._id);
const sorted = (list) => [...list].sort();

// ----------------------------------------------------------------------------- scenario

const config = makeConfig();
const client = new PlatformClient(config);
const user = client.application(APP_ID).user;

const state = {};

const A = { phone_number: "9876500001", email: "Asha.Rao@Example.com", first_name: "Asha", last_name: "Rao",
            gender: "female", meta: { tier: "gold" }, external_id: "ext-a" };
const B = { phone_number: "9876500002", email: "bilal@example.com", first_name: "Bilal", last_name: "Khan" };
const C = { phone_number: "9876500003", first_name: "Chitra" };

step("client_credentials grant with a wrong secret is refused (401)", async () => {
  const bad = makeConfig({ apiSecret: "not-the-secret" });
  await expectServerError(bad.oauthClient.getAccesstokenObj({ grant_type: "client_credentials" }), 401,
    "token with a bad secret");
});

step("client_credentials grant issues a token the SDK accepts", async () => {
  // fdkAxios resolves with the response body itself (no `.data`).
  const token = await config.oauthClient.getAccesstokenObj({ grant_type: "client_credentials" });
  assert.equal(typeof token.access_token, "string");
  assert.ok(token.access_token.length >= 20, "access_token looks random");
  assert.equal(token.token_type, "Bearer");
  assert.equal(typeof token.expires_in, "number", "expires_in is a number");
  assert.ok(token.expires_in > 120, "expires_in is long enough not to trigger an immediate renewal");
  assert.equal(typeof token.refresh_token, "string");
  assert.ok(token.refresh_token.length >= 20);
  config.oauthClient.setToken(token);
  // As OAuthClient.verifyCallback does after setToken (setToken alone leaves token_expires_at at 0).
  config.oauthClient.token_expires_at = Date.now() + token.expires_in * 1000;
  assert.equal(await config.oauthClient.getAccessToken(), token.access_token);
  state.firstToken = token;
});

step("refresh_token grant rotates the pair (renewAccessToken)", async () => {
  const renewed = await config.oauthClient.renewAccessToken();
  assert.equal(typeof renewed.access_token, "string");
  assert.notEqual(renewed.access_token, state.firstToken.access_token, "a new access token");
  assert.equal(typeof renewed.refresh_token, "string");
  assert.notEqual(renewed.refresh_token, state.firstToken.refresh_token, "a new refresh token");
  assert.equal(renewed.token_type, "Bearer");
  assert.equal(typeof renewed.expires_in, "number");
  assert.equal(config.oauthClient.token, renewed.access_token, "the SDK now uses the renewed token");
  assert.equal(config.oauthClient.refreshToken, renewed.refresh_token);
  assert.ok(config.oauthClient.token_expires_at > Date.now() + 120000);
});

step("a spent refresh token is refused (400 invalid_grant)", async () => {
  const err = await expectServerError(
    config.oauthClient.getAccesstokenObj({ grant_type: "refresh_token", refresh_token: state.firstToken.refresh_token }),
    400, "reusing a refresh token");
  assert.equal(err.details.code, "invalid_grant");
});

step("a bad bearer token is refused (401)", async () => {
  const other = makeConfig();
  other.oauthClient.setToken({ access_token: "definitely-not-a-token", expires_in: 3600 });
  other.oauthClient.token_expires_at = Date.now() + 3600 * 1000;
  await expectServerError(new PlatformClient(other).application(APP_ID).user.getCustomers({}), 401,
    "getCustomers with a bad token");
});

step("getCustomers on an empty application", async () => {
  const res = checkList(await user.getCustomers({ pageNo: 1, pageSize: 10 }),
    { item_total: 0, has_next: false, current: 1, size: 10 });
  assert.deepEqual(res.items, []);
});

step("createUser (email, names, meta)", async () => {
  const res = await user.createUser({ body: A });
  const u = checkUser(res.user, {
    first_name: "Asha", last_name: "Rao", gender: "female", external_id: "ext-a", active: true,
    meta: { tier: "gold" },
  });
  assert.deepEqual(u.emails, [{ email: "asha.rao@example.com", active: true, primary: true, verified: false }]);
  assert.equal(u.phone_numbers.length, 1);
  assert.deepEqual(
    { phone: u.phone_numbers[0].phone, country_code: u.phone_numbers[0].country_code,
      primary: u.phone_numbers[0].primary, active: u.phone_numbers[0].active },
    { phone: "9876500001", country_code: 91, primary: true, active: true });
  assert.equal(typeof u.username, "string");
  assert.ok(u.username.length > 0, "a username is generated");
  state.a = u;
});

step("createUser (second customer)", async () => {
  const res = await user.createUser({ body: B });
  state.b = checkUser(res.user, { first_name: "Bilal", last_name: "Khan", active: true });
  assert.equal(state.b.emails[0].email, "bilal@example.com");
});

step("createUser (phone only, no email)", async () => {
  const res = await user.createUser({ body: C });
  state.c = checkUser(res.user, { first_name: "Chitra", emails: [], active: true });
  assert.equal(state.c.phone_numbers[0].phone, "9876500003");
  assert.equal(new Set([state.a._id, state.b._id, state.c._id]).size, 3, "distinct ids");
});

step("createUser with a duplicate email is a 409", async () => {
  await expectServerError(
    user.createUser({ body: { phone_number: "9876500009", email: "ASHA.RAO@example.com" } }), 409,
    "createUser with a taken email");
});

step("createUser with a duplicate phone is a 409", async () => {
  await expectServerError(user.createUser({ body: { phone_number: "+91 98765 00002" } }), 409,
    "createUser with a taken phone");
});

step("createUser with an invalid email is a 400", async () => {
  await expectServerError(user.createUser({ body: { phone_number: "9876500008", email: "not-an-email" } }), 400,
    "createUser with an invalid email");
});

step("getCustomers without q: newest first, paginated", async () => {
  const first = checkList(await user.getCustomers({ pageNo: 1, pageSize: 2 }),
    { item_total: 3, has_next: true, current: 1, size: 2 });
  assert.deepEqual(ids(first.items), [state.c._id, state.b._id], "page 1 is newest first");

  const second = checkList(await user.getCustomers({ pageNo: 2, pageSize: 2 }),
    { item_total: 3, has_next: false, current: 2, size: 2 });
  assert.deepEqual(ids(second.items), [state.a._id]);

  const beyond = checkList(await user.getCustomers({ pageNo: 3, pageSize: 2 }),
    { item_total: 3, has_next: false, current: 3 });
  assert.deepEqual(beyond.items, [], "a page past the end is empty");

  const all = checkList(await user.getCustomers({}), { item_total: 3, has_next: false, current: 1, size: 10 });
  assert.deepEqual(ids(all.items), [state.c._id, state.b._id, state.a._id], "defaults: page 1, size 10");
  const listedA = all.items.find((u) => u._id === state.a._id);
  assert.deepEqual(listedA.emails, state.a.emails, "list and create agree on emails");
  assert.deepEqual(listedA.phone_numbers, state.a.phone_numbers, "list and create agree on phones");
  assert.equal(listedA.created_at, state.a.created_at);
});

step("getCustomers with a plain q fragment (name, email, phone)", async () => {
  const byName = checkList(await user.getCustomers({ q: "Asha", pageNo: 1, pageSize: 10 }),
    { item_total: 1, has_next: false });
  assert.deepEqual(ids(byName.items), [state.a._id], "first name prefix");

  const byLastName = checkList(await user.getCustomers({ q: "khan", pageNo: 1, pageSize: 10 }),
    { item_total: 1, has_next: false });
  assert.deepEqual(ids(byLastName.items), [state.b._id], "last name prefix, case-insensitive");

  const byEmail = checkList(await user.getCustomers({ q: "bilal@", pageNo: 1, pageSize: 10 }),
    { item_total: 1, has_next: false });
  assert.deepEqual(ids(byEmail.items), [state.b._id], "email prefix");

  const byPhone = checkList(await user.getCustomers({ q: "98765000", pageNo: 1, pageSize: 2 }),
    { item_total: 3, has_next: true, size: 2 });
  assert.deepEqual(ids(byPhone.items), [state.c._id, state.b._id], "phone prefix, newest first");

  const none = checkList(await user.getCustomers({ q: "Zzyzx", pageNo: 1, pageSize: 10 }),
    { item_total: 0, has_next: false });
  assert.deepEqual(none.items, []);
});

step("getCustomers with the Mongo-style $or q", async () => {
  const q = JSON.stringify({ $or: [{ "emails.email": "asha.rao@example.com" }, { "phoneNumbers.phone": "9876500002" }] });
  const res = checkList(await user.getCustomers({ q, pageNo: 1, pageSize: 10 }), { item_total: 2, has_next: false });
  assert.deepEqual(ids(res.items), [state.b._id, state.a._id]);

  const paged = checkList(await user.getCustomers({ q, pageNo: 1, pageSize: 1 }),
    { item_total: 2, has_next: true, size: 1 });
  assert.deepEqual(ids(paged.items), [state.b._id]);

  // The seed's example puts the same value in both branches.
  const seedShape = JSON.stringify({ $or: [{ "emails.email": "bilal@example.com" }, { "phoneNumbers.phone": "bilal@example.com" }] });
  const res2 = checkList(await user.getCustomers({ q: seedShape, pageNo: 1, pageSize: 10 }),
    { item_total: 1, has_next: false });
  assert.deepEqual(ids(res2.items), [state.b._id]);
});

step("getCustomers with a malformed JSON q is a 400", async () => {
  await expectServerError(user.getCustomers({ q: '{"$or": [', pageNo: 1, pageSize: 10 }), 400,
    "getCustomers with broken JSON q");
});

step("getCustomers with an out-of-range page is a 400", async () => {
  await expectServerError(user.getCustomers({ pageNo: 0, pageSize: 10 }), 400, "getCustomers with pageNo 0");
  await expectServerError(user.getCustomers({ pageNo: 1, pageSize: 0 }), 400, "getCustomers with pageSize 0");
});

step("an unknown application id is a 404", async () => {
  await expectServerError(client.application("ffffffffffffffffffffffff").user.getCustomers({}), 404,
    "getCustomers of an unknown application");
});

step("searchUsers with q and with q + query[]", async () => {
  const one = checkSearch(await user.searchUsers({ q: "asha.rao@example.com" }));
  assert.deepEqual(ids(one.users), [state.a._id]);
  checkUser(one.users[0], { first_name: "Asha" });

  const many = checkSearch(await user.searchUsers({ q: "bilal@example.com", query: ["9876500003", "+919876500001"] }));
  assert.deepEqual(sorted(ids(many.users)), sorted([state.a._id, state.b._id, state.c._id]));

  const queryOnly = checkSearch(await user.searchUsers({ query: ["9876500003"] }));
  assert.deepEqual(ids(queryOnly.users), [state.c._id]);

  const none = checkSearch(await user.searchUsers({ q: "nobody@example.com" }));
  assert.deepEqual(none.users, []);
});

step("updateUser replaces emails and phone_numbers", async () => {
  const res = await user.updateUser({
    userId: state.a._id,
    body: {
      first_name: "Asha R",
      emails: [
        { email: "asha@work.example.com", primary: true, verified: true, active: true },
        { email: "asha.home@example.com", primary: false, verified: false, active: true },
      ],
      phone_numbers: [{ phone: "9876500011", country_code: "91", primary: true, verified: true, active: true }],
    },
  });
  const u = checkUser(res.user, { _id: state.a._id, first_name: "Asha R", last_name: "Rao" });
  assert.deepEqual(sorted(u.emails.map((e) => e.email)), ["asha.home@example.com", "asha@work.example.com"]);
  const primaryEmail = u.emails.find((e) => e.primary);
  assert.equal(primaryEmail.email, "asha@work.example.com");
  assert.equal(primaryEmail.verified, true);
  assert.equal(u.phone_numbers.length, 1);
  assert.equal(u.phone_numbers[0].phone, "9876500011");
  assert.equal(u.phone_numbers[0].country_code, 91);
  assert.equal(u.phone_numbers[0].primary, true);

  const oldEmail = checkSearch(await user.searchUsers({ q: "asha.rao@example.com" }));
  assert.deepEqual(oldEmail.users, [], "the replaced email no longer finds her");
  const newEmail = checkSearch(await user.searchUsers({ q: "asha.home@example.com", query: ["9876500011"] }));
  assert.deepEqual(ids(newEmail.users), [state.a._id]);
  const oldPhone = checkSearch(await user.searchUsers({ q: "9876500001" }));
  assert.deepEqual(oldPhone.users, [], "the replaced phone no longer finds her");
});

step("updateUser with profile fields only keeps the contacts", async () => {
  const res = await user.updateUser({
    userId: state.b._id,
    body: { last_name: "Khan-Ali", gender: "male", external_id: "ext-b", rr_id: "rr-b", meta: { vip: true } },
  });
  const u = checkUser(res.user, {
    _id: state.b._id, first_name: "Bilal", last_name: "Khan-Ali", gender: "male", external_id: "ext-b",
    rr_id: "rr-b", meta: { vip: true },
  });
  assert.deepEqual(u.emails, state.b.emails, "emails untouched");
  assert.deepEqual(u.phone_numbers, state.b.phone_numbers, "phone_numbers untouched");
  assert.ok(u.updated_at >= state.b.updated_at, "updated_at moves forward");

  const list = checkList(await user.getCustomers({ q: "khan-ali", pageNo: 1, pageSize: 10 }), { item_total: 1 });
  assert.deepEqual(ids(list.items), [state.b._id], "the list sees the update");
  assert.equal(list.items[0].external_id, "ext-b");
});

step("updateUser taking another customer's email is a 409", async () => {
  await expectServerError(
    user.updateUser({ userId: state.b._id, body: { emails: [{ email: "asha@work.example.com", primary: true }] } }),
    409, "updateUser with a taken email");
});

step("updateUser of an unknown id is a 404", async () => {
  await expectServerError(user.updateUser({ userId: "ffffffffffffffffffffffff", body: { first_name: "X" } }), 404,
    "updateUser of an unknown user");
});

step("blockOrUnblockUsers: block then unblock", async () => {
  const blocked = await user.blockOrUnblockUsers({
    body: { user_id: [state.a._id, state.b._id], status: false, reason: "chargeback review" },
  });
  assert.equal(blocked.success, true);
  let list = checkList(await user.getCustomers({ pageNo: 1, pageSize: 10 }), { item_total: 3 });
  const activeOf = (items) => Object.fromEntries(items.map((u) => [u._id, u.active]));
  assert.deepEqual(activeOf(list.items),
    { [state.a._id]: false, [state.b._id]: false, [state.c._id]: true }, "A and B blocked");
  const found = checkSearch(await user.searchUsers({ q: "bilal@example.com" }));
  assert.equal(found.users[0].active, false, "searchUsers shows the block");

  const unblocked = await user.blockOrUnblockUsers({
    body: { user_id: [state.a._id, state.b._id], status: true, reason: "review cleared" },
  });
  assert.equal(unblocked.success, true);
  list = checkList(await user.getCustomers({ pageNo: 1, pageSize: 10 }), { item_total: 3 });
  assert.deepEqual(activeOf(list.items),
    { [state.a._id]: true, [state.b._id]: true, [state.c._id]: true }, "all active again");
});

step("blockOrUnblockUsers with an unknown id is a 404", async () => {
  await expectServerError(user.blockOrUnblockUsers({
    body: { user_id: ["ffffffffffffffffffffffff"], status: false, reason: "x" },
  }), 404, "blocking an unknown user");
});

step("archiveUser hides the customer", async () => {
  const res = await user.archiveUser({ body: { user_id: state.c._id } });
  assert.equal(res.success, true);
  const list = checkList(await user.getCustomers({ pageNo: 1, pageSize: 10 }), { item_total: 2, has_next: false });
  assert.ok(!ids(list.items).includes(state.c._id), "archived customer is not listed");
  assert.deepEqual(ids(list.items), [state.b._id, state.a._id]);
  const byName = checkList(await user.getCustomers({ q: "Chitra", pageNo: 1, pageSize: 10 }), { item_total: 0 });
  assert.deepEqual(byName.items, [], "archived customer is not listed by q either");
  const search = checkSearch(await user.searchUsers({ q: "9876500003" }));
  assert.deepEqual(search.users, [], "archived customer is not found by searchUsers");
});

step("archiveUser of an already archived customer is a 409", async () => {
  await expectServerError(user.archiveUser({ body: { user_id: state.c._id } }), 409, "archiving twice");
});

step("updateUser of an archived customer is a 404", async () => {
  await expectServerError(user.updateUser({ userId: state.c._id, body: { first_name: "Ghost" } }), 404,
    "updating an archived customer");
});

step("an archived customer's phone can be registered again (createUser)", async () => {
  const res = await user.createUser({ body: { phone_number: "9876500003", first_name: "Dev" } });
  state.d = checkUser(res.user, { first_name: "Dev", active: true });
  assert.notEqual(state.d._id, state.c._id);
  const search = checkSearch(await user.searchUsers({ q: "9876500003" }));
  assert.deepEqual(ids(search.users), [state.d._id]);
});

step("unDeleteUser while the phone belongs to someone else is a 409", async () => {
  await expectServerError(
    user.unDeleteUser({ body: { user_id: state.c._id, reason: "archived by mistake", reason_id: "r-1" } }), 409,
    "restoring a customer whose phone was taken");
});

step("unDeleteUser restores the customer", async () => {
  assert.equal((await user.archiveUser({ body: { user_id: state.d._id } })).success, true, "archive the newcomer");
  const res = await user.unDeleteUser({
    body: { user_id: state.c._id, reason: "archived by mistake", reason_id: "r-1" },
  });
  assert.equal(res.success, true);
  const list = checkList(await user.getCustomers({ pageNo: 1, pageSize: 10 }), { item_total: 3, has_next: false });
  assert.deepEqual(ids(list.items), [state.c._id, state.b._id, state.a._id]);
  const restored = list.items.find((u) => u._id === state.c._id);
  assert.equal(restored.active, true);
  assert.equal(restored.first_name, "Chitra");
  assert.deepEqual(restored.phone_numbers, state.c.phone_numbers, "contacts come back with the customer");
  const search = checkSearch(await user.searchUsers({ q: "9876500003" }));
  assert.deepEqual(ids(search.users), [state.c._id]);
});

step("unDeleteUser of a live customer is a 409", async () => {
  await expectServerError(user.unDeleteUser({ body: { user_id: state.c._id, reason: "again", reason_id: "r-2" } }),
    409, "restoring a live customer");
});

// ----------------------------------------------------------------------------- runner

run("SDK compatibility");
