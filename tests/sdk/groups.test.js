#!/usr/bin/env node
/*
 * SDK compatibility check of customer groups: every group method of the official Fynd JavaScript SDK
 * (@gofynd/fdk-client-javascript 3.4.2) PlatformClient — createUserGroup, getUserGroups, getUserGroupById,
 * updateUserGroup, updateUserGroupPartially — with strictResponseCheck on, so every answer is validated
 * against the SDK's Joi schemas (UserGroupResponseSchema, UserGroupListResponseSchema: a condition's value is
 * a string, counts are numbers) and a mismatch rejects the call. The users of a group
 * (GET …/user_group/{group_id}/users, seed 002) has no SDK method: it is called through the SDK's own
 * PlatformAPIClient and its answer validated against the SDK's CustomerListResponseSchema.
 *
 * Run by tests/test_sdk_groups.py against a live server whose jobs run at once (Celery eager).
 * Environment: FDK_DOMAIN, FDK_COMPANY_ID, FDK_APPLICATION_ID, FDK_CLIENT_ID, FDK_CLIENT_SECRET,
 * FDK_READONLY_CLIENT_ID, FDK_READONLY_CLIENT_SECRET, FDK_FILES (base URL of the CSV files below).
 */
"use strict";

const assert = require("node:assert/strict");
const {
  OBJECT_ID, ISO_MS_Z, env, expectServerError, step, run, connect,
} = require("./harness");
const PlatformAPIClient = require("@gofynd/fdk-client-javascript/sdk/platform/PlatformAPIClient");
const UserPlatformModel = require("@gofynd/fdk-client-javascript/sdk/platform/User/UserPlatformModel");

const APP_ID = env("FDK_APPLICATION_ID");
const FILES = env("FDK_FILES");
const UNKNOWN_ID = "0123456789abcdef01234567";

function checkGroup(group, expected = {}) {
  assert.ok(group && typeof group === "object", `group should be an object, got ${JSON.stringify(group)}`);
  assert.match(group._id, OBJECT_ID, "_id is a 24-hex ObjectId");
  assert.equal(group.application_id, APP_ID, "application_id");
  assert.equal(typeof group.uid, "number", "uid is a JSON number");
  assert.equal(typeof group.__v, "number", "__v is a JSON number");
  assert.equal(typeof group.is_active, "boolean", "is_active is a JSON boolean");
  assert.match(group.created_at, ISO_MS_Z, "created_at is ISO 8601 UTC with milliseconds");
  assert.match(group.modified_at, ISO_MS_Z, "modified_at is ISO 8601 UTC with milliseconds");
  assert.ok(["pending", "processing", "active", "failed"].includes(group.status), `status ${group.status}`);
  assert.ok(["bulk", "conditional"].includes(group.type), `type ${group.type}`);
  assert.equal(typeof group.error.count, "number", "error.count is a JSON number");
  assert.equal(typeof group.error.file_url, "string", "error.file_url is a string");
  for (const condition of group.conditions) assert.equal(typeof condition.value, "string", "condition value");
  for (const [key, value] of Object.entries(expected)) assert.deepEqual(group[key], value, `group.${key}`);
  return group;
}

function checkPage(page, expected) {
  for (const key of ["current", "size", "item_total"]) assert.equal(typeof page[key], "number", `page.${key}`);
  assert.equal(typeof page.has_next, "boolean", "page.has_next is a JSON boolean");
  for (const [key, value] of Object.entries(expected)) assert.equal(page[key], value, `page.${key}`);
}

/** GET …/user_group/{id}/users with the SDK's auth, checked against the SDK's CustomerListResponseSchema. */
async function groupUsers(client, groupId, query = {}) {
  const path = `/service/platform/user/v1.0/company/${env("FDK_COMPANY_ID")}/application/${APP_ID}` +
    `/user_group/${groupId}/users`;
  const res = await PlatformAPIClient.execute(client.config, "get", path, query, undefined, {}, {});
  const { error } = UserPlatformModel.CustomerListResponseSchema().validate(res, { abortEarly: false,
    allowUnknown: true });
  assert.equal(error, undefined, `CustomerListResponseSchema: ${error && error.message}`);
  checkPage(res.page, {});
  return res;
}

function ids(res) {
  return res.items.map((u) => u._id).sort();
}

async function fetchText(url) {
  const response = await fetch(url);
  assert.equal(response.status, 200, `GET ${url}`);
  return response.text();
}

const state = {};

step("connect (full and read-only clients), four customers, a number attribute", async () => {
  state.user = await connect(env("FDK_CLIENT_ID"), env("FDK_CLIENT_SECRET"));
  state.reader = await connect(env("FDK_READONLY_CLIENT_ID"), env("FDK_READONLY_CLIENT_SECRET"));
  state.people = [];
  for (let n = 1; n <= 4; n += 1) {
    state.people.push((await state.user.createUser({
      body: { phone_number: `987650000${n}`, email: `g${n}@example.com`, first_name: `G${n}` },
    })).user);
  }
  state.points = await state.user.createUserAttributeDefinition({ body: { name: "Points", type: "number" } });
  for (const [person, points] of [[state.people[0], 10], [state.people[1], 60], [state.people[2], 90]]) {
    await state.user.updateUserAttribute({
      attributeDefId: state.points._id, userId: person._id, body: { attribute: { value: points } },
    });
  }
});

step("createUserGroup from a CSV file (bulk): pending, then active with its error count", async () => {
  const created = checkGroup(await state.user.createUserGroup({
    body: { name: "Newsletter", description: "From a CSV", type: "bulk", file_url: `${FILES}/members.csv` },
  }), { name: "Newsletter", description: "From a CSV", type: "bulk", uid: 1, __v: 0,
        file_url: `${FILES}/members.csv`, conditions: [] });
  assert.ok(["pending", "processing", "active"].includes(created.status));
  state.file = checkGroup(await state.user.getUserGroupById({ groupId: created._id }), { status: "active" });
  assert.equal(state.file.error.count, 1, "one row names no customer");
  const report = await fetchText(state.file.error.file_url);
  assert.match(report, /ghost@example\.com,no customer of the application has this email/);
  const users = await groupUsers(state.user, created._id, { page_no: 1, page_size: 10 });
  assert.deepEqual(ids(users), [state.people[0]._id, state.people[1]._id, state.people[2]._id].sort());
  checkPage(users.page, { item_total: 3, current: 1, size: 10, has_next: false });
});

step("createUserGroup from conditions (conditional): value answered as a string, key the slug", async () => {
  state.cond = checkGroup(await state.user.createUserGroup({
    body: { name: "High points", description: "points >= 50", type: "conditional",
            conditions: [{ user_attribute_definition_id: state.points._id, type: "gte", value: "50" }] },
  }), { type: "conditional", status: "active", uid: 2,
        conditions: [{ user_attribute_definition_id: state.points._id, type: "gte", value: "50", key: "points" }] });
  assert.deepEqual(ids(await groupUsers(state.reader, state.cond._id)),
    [state.people[1]._id, state.people[2]._id].sort());
});

step("a conditional group follows attribute values as they change", async () => {
  await state.user.updateUserAttribute({
    attributeDefId: state.points._id, userId: state.people[0]._id, body: { attribute: { value: 75 } },
  });
  await state.user.deleteUserAttribute({ attributeDefId: state.points._id, userId: state.people[2]._id });
  const users = await groupUsers(state.user, state.cond._id, { page_size: 1, page_no: 1 });
  checkPage(users.page, { item_total: 2, size: 1, has_next: true });
  assert.deepEqual(ids(await groupUsers(state.user, state.cond._id)),
    [state.people[0]._id, state.people[1]._id].sort());
});

step("getUserGroups: newest first, filters name / type / status / group_uid, paging", async () => {
  const all = await state.reader.getUserGroups({ pageNo: "1", pageSize: "10" });
  all.items.forEach((g) => checkGroup(g));
  assert.deepEqual(all.items.map((g) => g.uid), [2, 1]);
  checkPage(all.page, { item_total: 2, current: 1, size: 10, has_next: false });
  assert.deepEqual((await state.user.getUserGroups({ name: "letter" })).items.map((g) => g.uid), [1]);
  assert.deepEqual((await state.user.getUserGroups({ type: "conditional" })).items.map((g) => g.uid), [2]);
  assert.deepEqual((await state.user.getUserGroups({ status: "active", groupUid: 1 })).items.map((g) => g.uid),
    [1]);
  const second = await state.user.getUserGroups({ pageNo: "2", pageSize: "1" });
  assert.deepEqual(second.items.map((g) => g.uid), [1]);
  checkPage(second.page, { current: 2, size: 1, item_total: 2, has_next: false });
});

step("getUserGroupById by _id or uid, 404 for an unknown id", async () => {
  const byUid = checkGroup(await state.reader.getUserGroupById({ groupId: "2" }));
  assert.equal(byUid._id, state.cond._id);
  await expectServerError(state.user.getUserGroupById({ groupId: UNKNOWN_ID }), 404, "an unknown group");
});

step("updateUserGroup (PUT): name, description, conditions; __v grows", async () => {
  const updated = checkGroup(await state.user.updateUserGroup({
    groupId: state.cond._id,
    body: { name: "Top points", description: "points between 70 and 100",
            conditions: [{ user_attribute_definition_id: state.points._id, type: "btw", value: "[70, 100]" }] },
  }), { name: "Top points", __v: 1, type: "conditional" });
  assert.equal(updated.conditions[0].value, "[70, 100]");
  assert.deepEqual(ids(await groupUsers(state.user, state.cond._id)), [state.people[0]._id]);
});

step("updateUserGroup (PUT) with a new file replaces a bulk group's membership", async () => {
  checkGroup(await state.user.updateUserGroup({
    groupId: state.file._id, body: { file_url: `${FILES}/replacement.csv` },
  }), { __v: 1, file_url: `${FILES}/replacement.csv` });
  checkGroup(await state.user.getUserGroupById({ groupId: state.file._id }), { status: "active" });
  assert.deepEqual(ids(await groupUsers(state.user, state.file._id)), [state.people[3]._id]);
});

step("updateUserGroupPartially (json): user_data adds and removes, white- and blacklists", async () => {
  const patched = checkGroup(await state.user.updateUserGroupPartially({
    groupId: state.file._id,
    body: { type: "json", user_data: [
      { email: "g1@example.com", action: "add" },
      { phone_number: "9876500002", action: "add" },
      { user_id: state.people[3]._id, action: "remove" },
      { user_id: UNKNOWN_ID, action: "add" },
    ] },
  }), { status: "active", __v: 2 });
  assert.equal(patched.error.count, 1, "the unknown user_id is counted");
  assert.deepEqual(ids(await groupUsers(state.user, state.file._id)),
    [state.people[0]._id, state.people[1]._id].sort());
  checkGroup(await state.user.updateUserGroupPartially({
    groupId: state.file._id,
    body: { whitelisted_users: [state.people[2]._id], blacklisted_users: [state.people[0]._id] },
  }), { __v: 3 });
  const users = await groupUsers(state.user, state.file._id);
  assert.deepEqual(ids(users), [state.people[1]._id, state.people[2]._id].sort());
  checkPage(users.page, { item_total: 2 });
});

step("updateUserGroupPartially (file_url, the default type): an action column adds and removes", async () => {
  checkGroup(await state.user.updateUserGroupPartially({
    groupId: state.file._id, body: { file_url: `${FILES}/changes.csv`, name: "Newsletter (changed)" },
  }), { name: "Newsletter (changed)", __v: 4 });
  checkGroup(await state.user.getUserGroupById({ groupId: state.file._id }), { status: "active" });
  // changes.csv: g2 removed, g4 added; g3 stays whitelisted, g1 stays blacklisted
  assert.deepEqual(ids(await groupUsers(state.user, state.file._id)),
    [state.people[2]._id, state.people[3]._id].sort());
});

step("a file without an action column fails the change (the group says why, members stay)", async () => {
  await state.user.updateUserGroupPartially({ groupId: state.file._id, body: { file_url: `${FILES}/members.csv` } });
  const failed = checkGroup(await state.user.getUserGroupById({ groupId: state.file._id }), { status: "failed" });
  assert.match(failed.error.message, /no action column/);
  assert.deepEqual(ids(await groupUsers(state.user, state.file._id)),
    [state.people[2]._id, state.people[3]._id].sort());
});

step("bad input is a 4xx with a message; a read-only client cannot write (403)", async () => {
  await expectServerError(state.user.createUserGroup({ body: { name: "No file", description: "d" } }), 400,
    "a bulk group without file_url");
  await expectServerError(state.user.createUserGroup({ body: { name: "Private", description: "d",
    file_url: "http://169.254.169.254/latest/meta-data" } }), 400, "a private file_url");
  await expectServerError(state.user.createUserGroup({ body: { name: "Bad", description: "d",
    conditions: [{ user_attribute_definition_id: state.points._id, type: "cnt", value: "1" }] } }), 400,
    "an operator that does not apply");
  await expectServerError(state.user.createUserGroup({ body: { name: "Bad", description: "d",
    conditions: [{ user_attribute_definition_id: UNKNOWN_ID, type: "eq", value: "1" }] } }), 400,
    "an unknown definition");
  await expectServerError(state.user.updateUserGroup({ groupId: state.cond._id, body: { type: "bulk" } }), 400,
    "changing the type");
  await expectServerError(state.reader.createUserGroup({ body: { name: "X", description: "d",
    file_url: `${FILES}/members.csv` } }), 403, "create with a read-only client");
  await expectServerError(state.reader.updateUserGroupPartially({ groupId: state.file._id,
    body: { name: "X" } }), 403, "patch with a read-only client");
  await expectServerError(state.user.deleteUserAttributeDefinitionById({ attributeDefId: state.points._id }), 409,
    "deleting a definition a group uses");
});

run("SDK groups check");
