#!/usr/bin/env node
/*
 * SDK compatibility check of customer import / export, job tracking and the timeline: the official Fynd
 * JavaScript SDK (@gofynd/fdk-client-javascript 3.4.2) methods bulkImportStoreFrontUsers,
 * getBulkImportUsersList, createBulkExportUsers, getBulkExportUsersList, getUsersJobByJobId and
 * getUserTimeline, with strictResponseCheck on: every answer is validated against the SDK's Joi schemas
 * (BulkActionModel, BulkActionPaginationSchema, GetUserTimeline) and a mismatch rejects the call.
 *
 * Run by tests/test_sdk_transfers.py against a live server whose jobs run at once (Celery eager).
 * Environment: FDK_DOMAIN, FDK_COMPANY_ID, FDK_APPLICATION_ID, FDK_CLIENT_ID, FDK_CLIENT_SECRET,
 * FDK_SECOND_APPLICATION_ID (an empty application of the same company, the round trip's target),
 * FDK_IMPORT_URL (a CSV with one good row and one bad row).
 */
"use strict";

const assert = require("node:assert/strict");
const {
  OBJECT_ID, ISO_MS_Z, env, expectServerError, step, run, connect, platformConfig,
} = require("./harness");

const APP_ID = env("FDK_APPLICATION_ID");
const SECOND_APP_ID = env("FDK_SECOND_APPLICATION_ID");
const UNKNOWN_ID = "0123456789abcdef01234567";
const STATUSES = ["pending", "processing", "completed", "completed_with_errors", "failed", "cancelled"];

function checkJob(job, expected = {}) {
  assert.ok(job && typeof job === "object", `job should be an object, got ${JSON.stringify(job)}`);
  assert.match(job._id, OBJECT_ID, "_id is a 24-hex ObjectId");
  assert.equal(job.company_id, env("FDK_COMPANY_ID"), "company_id is the company, as a string");
  assert.match(job.created_at, ISO_MS_Z, "created_at");
  assert.match(job.updated_at, ISO_MS_Z, "updated_at");
  assert.ok(STATUSES.includes(job.status), `status ${job.status}`);
  for (const key of ["total", "success", "error"]) assert.equal(typeof job.count[key], "number", `count.${key}`);
  assert.equal(typeof job.created_by.name, "string");
  assert.equal(typeof job.created_by.user_id, "string");
  for (const [key, value] of Object.entries(expected)) assert.deepEqual(job[key], value, `job.${key}`);
  return job;
}

function checkPage(page, expected) {
  for (const key of ["current", "size", "item_total"]) assert.equal(typeof page[key], "number", `page.${key}`);
  assert.equal(typeof page.has_next, "boolean", "page.has_next");
  for (const [key, value] of Object.entries(expected)) assert.equal(page[key], value, `page.${key}`);
}

async function fetchText(url) {
  const response = await fetch(url);
  assert.equal(response.status, 200, `GET ${url}`);
  return response.text();
}

const state = {};
const today = new Date().toISOString().slice(0, 10);

step("connect and create three customers", async () => {
  state.user = await connect(env("FDK_CLIENT_ID"), env("FDK_CLIENT_SECRET"));
  const { PlatformClient } = require("@gofynd/fdk-client-javascript");
  const config = platformConfig(env("FDK_CLIENT_ID"), env("FDK_CLIENT_SECRET"));
  const token = await config.oauthClient.getAccesstokenObj({ grant_type: "client_credentials" });
  config.oauthClient.setToken(token);
  config.oauthClient.token_expires_at = Date.now() + token.expires_in * 1000;
  state.second = new PlatformClient(config).application(SECOND_APP_ID).user;
  state.people = [];
  for (const [phone, email, first] of [["9876500001", "asha@example.com", "Asha"],
    ["9876500002", "ravi@example.com", "Ravi"], ["9876500003", "", "Meera"]]) {
    const body = { phone_number: phone, first_name: first, last_name: "Rao" };
    if (email) body.email = email;
    state.people.push((await state.user.createUser({ body })).user);
  }
});

step("createBulkExportUsers (csv) answers the pending job; getUsersJobByJobId the finished one", async () => {
  const job = checkJob(await state.user.createBulkExportUsers({ body: { file_format: "csv" } }),
    { file_format: "csv", action_type: "export", application_id: APP_ID });
  assert.match(job.file_name, /^customers_.*\.csv$/);
  const done = checkJob(await state.user.getUsersJobByJobId({ jobId: job._id }),
    { status: "completed", count: { total: 3, success: 3, error: 0 } });
  assert.match(done.links.file.absolute_url, /\/files\//);
  const text = await fetchText(done.links.file.absolute_url);
  const lines = text.trim().split(/\r?\n/);
  assert.equal(lines.length, 4, "a header and three customers");
  assert.ok(lines[0].startsWith("user_id,first_name,last_name,email,phone_number"), lines[0]);
  state.csvExport = done;
});

step("createBulkExportUsers (xlsx)", async () => {
  const job = checkJob(await state.user.createBulkExportUsers({ body: { file_format: "xlsx" } }),
    { file_format: "xlsx" });
  const done = checkJob(await state.user.getUsersJobByJobId({ jobId: job._id }), { status: "completed" });
  assert.match(done.links.file.relative_url, /\.xlsx$/);
  state.xlsxExport = done;
});

step("createBulkExportUsers refuses another format (400)", async () => {
  await expectServerError(state.user.createBulkExportUsers({ body: { file_format: "pdf" } }), 400, "a pdf export");
});

step("getBulkExportUsersList: newest first, filters, paging", async () => {
  const res = await state.user.getBulkExportUsersList({ pageNo: "1", pageSize: "10" });
  res.items.forEach((j) => checkJob(j));
  assert.deepEqual(res.items.map((j) => j._id), [state.xlsxExport._id, state.csvExport._id]);
  checkPage(res.page, { item_total: 2, current: 1, size: 10, has_next: false });
  const csvOnly = await state.user.getBulkExportUsersList({
    fileFormat: "csv", status: "completed", search: "customers_", startDate: today, endDate: today,
  });
  assert.deepEqual(csvOnly.items.map((j) => j._id), [state.csvExport._id]);
  const paged = await state.user.getBulkExportUsersList({ pageNo: "2", pageSize: "1" });
  assert.deepEqual(paged.items.map((j) => j._id), [state.csvExport._id]);
  checkPage(paged.page, { item_total: 2, current: 2, has_next: false });
  await expectServerError(state.user.getBulkExportUsersList({ status: "done" }), 400, "an unknown status");
});

step("bulkImportStoreFrontUsers: the export imported into another application gives the same customers", async () => {
  const job = checkJob(await state.second.bulkImportStoreFrontUsers({
    body: { absolute_url: state.csvExport.links.file.absolute_url,
            relative_url: state.csvExport.links.file.relative_url, file_format: "csv" },
  }), { action_type: "import", file_format: "csv", application_id: SECOND_APP_ID });
  checkJob(await state.second.getUsersJobByJobId({ jobId: job._id }),
    { status: "completed", count: { total: 3, success: 3, error: 0 } });
  const copied = await state.second.getCustomers({ pageSize: 10 });
  const key = (c) => `${c.first_name} ${c.last_name} ${c.username} ${(c.emails[0] || {}).email || ""} ` +
    `${c.phone_numbers[0].phone}`;
  const original = await state.user.getCustomers({ pageSize: 10 });
  assert.deepEqual(copied.items.map(key), original.items.map(key));
  await expectServerError(state.user.getUsersJobByJobId({ jobId: job._id }), 404,
    "a job of another application");
});

step("bulkImportStoreFrontUsers: a file with a bad row completes with errors and an error file", async () => {
  const job = checkJob(await state.user.bulkImportStoreFrontUsers({
    body: { absolute_url: env("FDK_IMPORT_URL"), relative_url: "uploads/new.csv", file_format: "csv" },
  }), { status: "pending", file_name: "new.csv" });
  const done = checkJob(await state.user.getUsersJobByJobId({ jobId: job._id }),
    { status: "completed_with_errors", count: { total: 3, success: 2, error: 1 } });
  const report = await fetchText(done.links.error.absolute_url);
  assert.match(report, /^row,reference,error/);
  assert.match(report, /not a valid email/);
  state.importJob = done;
});

step("bulkImportStoreFrontUsers refuses a bad format or a private URL (400)", async () => {
  await expectServerError(state.user.bulkImportStoreFrontUsers({
    body: { absolute_url: env("FDK_IMPORT_URL"), relative_url: "", file_format: "pdf" } }), 400, "a pdf import");
  await expectServerError(state.user.bulkImportStoreFrontUsers({
    body: { absolute_url: "http://169.254.169.254/latest/meta-data", relative_url: "", file_format: "csv" } }),
  400, "a link-local URL");
});

step("getBulkImportUsersList: filters and paging", async () => {
  const res = await state.user.getBulkImportUsersList({ pageNo: "1", pageSize: "5" });
  assert.deepEqual(res.items.map((j) => checkJob(j)._id), [state.importJob._id]);
  checkPage(res.page, { item_total: 1, size: 5 });
  const found = await state.user.getBulkImportUsersList({
    search: "NEW", status: "completed_with_errors", fileFormat: "csv", startDate: today, endDate: today,
  });
  assert.deepEqual(found.items.map((j) => j._id), [state.importJob._id]);
  const none = await state.user.getBulkImportUsersList({ fileFormat: "xlsx" });
  assert.deepEqual(none.items, []);
  checkPage(none.page, { item_total: 0, has_next: false });
});

step("getUsersJobByJobId: an unknown job is a 404", async () => {
  await expectServerError(state.user.getUsersJobByJobId({ jobId: UNKNOWN_ID }), 404, "an unknown job");
});

step("getUserTimeline: created, blocked with its reason, archived with the purge date", async () => {
  const [asha, ravi] = state.people;
  await state.user.blockOrUnblockUsers({ body: { status: false, user_id: [asha._id], reason: "chargeback" } });
  const timeline = await state.user.getUserTimeline({ userId: asha._id });
  assert.equal(timeline.delete_on, "");
  assert.deepEqual(timeline.timeline.map((i) => i.type), ["customer.blocked", "customer.created"]);
  for (const item of timeline.timeline) {
    assert.match(item.date, ISO_MS_Z);
    assert.equal(typeof item.title, "string");
    assert.equal(typeof item.visible, "boolean");
    assert.equal(typeof item.sub_title, "string");
  }
  assert.match(timeline.timeline[0].sub_title, /chargeback/);
  await state.user.archiveUser({ body: { user_id: ravi._id } });
  const archived = await state.user.getUserTimeline({ userId: ravi._id });
  assert.match(archived.delete_on, ISO_MS_Z);
  assert.equal(archived.timeline[0].type, "customer.archived");
  await expectServerError(state.user.getUserTimeline({ userId: UNKNOWN_ID }), 404, "an unknown customer");
});

run("SDK transfers check");
