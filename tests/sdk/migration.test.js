#!/usr/bin/env node
/*
 * Customers moved in with their passwords (docs/migration.md), through the official Fynd JavaScript SDK
 * 3.4.2: the platform client imports a CSV with a `password_hash` of every accepted format
 * (bulkImportStoreFrontUsers, strict response check on), then each customer signs in through the
 * storefront ApplicationClient (loginWithEmailAndPassword, answers validated against the spec's Joi
 * LoginSuccess) — a wrong password first (401), then the right one, then the right one again against the
 * re-hashed password; getCustomers shows has_old_password_hash before and after.
 *
 * Run by tests/sdk/test_migration_sdk.py. Environment: the runner's FDK_* plus FDK_IMPORT_URL (the CSV)
 * and FDK_MOVED (JSON: [{format, email, password}]).
 */
"use strict";

const assert = require("node:assert/strict");
const { env, expectServerError, step, run, connect } = require("./harness");
const { shopper } = require("./storefront_harness");

const MOVED = JSON.parse(env("FDK_MOVED"));
const state = {};

async function customerByEmail(email) {
  const found = await state.platform.getCustomers({ q: email, pageSize: 1 });
  assert.equal(found.items.length, 1, `one customer with ${email}`);
  return found.items[0];
}

step("updatePlatformConfig lets unverified imported contacts sign in (level soft)", async () => {
  state.platform = await connect(env("FDK_CLIENT_ID"), env("FDK_CLIENT_SECRET"));
  await state.platform.updatePlatformConfig({ body: { required_fields: {
    email: { is_required: false, level: "soft" }, mobile: { is_required: true, level: "soft" } } } });
});

step("bulkImportStoreFrontUsers imports a customer per hash format; each waits with has_old_password_hash", async () => {
  const job = await state.platform.bulkImportStoreFrontUsers({
    body: { absolute_url: env("FDK_IMPORT_URL"), relative_url: "uploads/moved.csv", file_format: "csv" } });
  const done = await state.platform.getUsersJobByJobId({ jobId: job._id });
  assert.equal(done.status, "completed");
  assert.equal(done.count.success, MOVED.length);
  for (const { email } of MOVED) {
    assert.equal((await customerByEmail(email)).has_old_password_hash, true, email);
  }
});

step("loginWithEmailAndPassword: a wrong password is a 401, the right one signs in (every format)", async () => {
  for (const { format, email, password } of MOVED) {
    await expectServerError(shopper().loginWithEmailAndPassword({ body: { username: email, password: password + "x" } }),
      401, `a wrong password against ${format}`);
    const client = shopper();
    const answer = await client.loginWithEmailAndPassword({ body: { username: email, password } });
    assert.equal(answer.user.emails[0].email, email, format);
    const me = await client.getLoggedInUser();
    assert.equal(me.user._id, answer.user._id, format);
  }
});

step("after the first sign-in the password is the service's own: the flag is cleared, it still signs in", async () => {
  for (const { format, email, password } of MOVED) {
    assert.equal((await customerByEmail(email)).has_old_password_hash, false, format);
    const answer = await shopper().loginWithEmailAndPassword({ body: { username: email, password } });
    assert.equal(answer.user.emails[0].email, email, format);
  }
});

run("SDK password migration");
