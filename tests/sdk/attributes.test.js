#!/usr/bin/env node
/*
 * SDK compatibility check of the customer attributes: every attribute method of the official Fynd
 * JavaScript SDK (@gofynd/fdk-client-javascript 3.4.2) PlatformClient, filterUsersByAttributes included, with
 * strictResponseCheck on, so every answer is validated against the SDK's Joi schemas
 * (UserAttributeDefinition, UserAttributeDefinitionDetails, UserAttribute, BulkUserAttribute,
 * UserAttributeFiltered, SuccessMessage) and a mismatch rejects the call.
 *
 * Run by tests/test_sdk_attributes.py against a live server with a fresh application.
 * Environment: FDK_DOMAIN, FDK_COMPANY_ID, FDK_APPLICATION_ID, FDK_CLIENT_ID, FDK_CLIENT_SECRET,
 * FDK_READONLY_CLIENT_ID, FDK_READONLY_CLIENT_SECRET (a client with application/customers/read only).
 * Exits 0 when every step passes; otherwise prints the failing step and exits 1.
 */
"use strict";

const assert = require("node:assert/strict");
const {
  OBJECT_ID, ISO_MS_Z, env, expectServerError, step, run, connect,
} = require("./harness");

const APP_ID = env("FDK_APPLICATION_ID");
const UNKNOWN_ID = "0123456789abcdef01234567";

/** Nothing the SDK's Joi would coerce or refuse: no null anywhere, JSON types checked here. */
function noNulls(value, path) {
  assert.notEqual(value, null, `${path} is not null`);
  if (typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (k !== "default_value") noNulls(v, `${path}.${k}`);
    }
  }
}

function checkDefinition(def, expected = {}) {
  assert.ok(def && typeof def === "object", `definition should be an object, got ${JSON.stringify(def)}`);
  noNulls(def, "definition");
  assert.match(def._id, OBJECT_ID, "_id is a 24-hex ObjectId");
  assert.equal(def.application_id, APP_ID, "application_id");
  assert.match(def.created_at, ISO_MS_Z, "created_at is ISO 8601 UTC with milliseconds");
  assert.match(def.modified_at, ISO_MS_Z, "modified_at is ISO 8601 UTC with milliseconds");
  for (const key of ["is_multi_value", "customer_editable", "encrypted", "pinned", "is_locked"]) {
    assert.equal(typeof def[key], "boolean", `${key} is a JSON boolean`);
  }
  assert.equal(def.multi_value, def.is_multi_value, "multi_value mirrors is_multi_value");
  assert.equal(typeof def.pin_order, "number", "pin_order is a JSON number");
  assert.equal(typeof def.__v, "number", "__v is a JSON number");
  assert.ok(Array.isArray(def.validations), "validations is an array");
  assert.ok(Array.isArray(def.ordering_channels), "ordering_channels is an array");
  assert.equal(typeof def.masking.enabled, "boolean", "masking.enabled is a JSON boolean");
  for (const [key, value] of Object.entries(expected)) {
    assert.deepEqual(def[key], value, `definition.${key}`);
  }
  return def;
}

function checkAttribute(attr, expected = {}) {
  assert.ok(attr && typeof attr === "object", `attribute should be an object, got ${JSON.stringify(attr)}`);
  noNulls(attr, "attribute");
  assert.match(attr._id, OBJECT_ID, "_id is a 24-hex ObjectId");
  assert.equal(attr.application_id, APP_ID, "application_id");
  assert.match(attr.user_id, OBJECT_ID, "user_id");
  assert.match(attr.user_attribute_definition_id, OBJECT_ID, "user_attribute_definition_id");
  assert.match(attr.created_at, ISO_MS_Z, "created_at");
  assert.match(attr.updated_at, ISO_MS_Z, "updated_at");
  assert.equal(typeof attr.customer_overridden, "boolean", "customer_overridden is a JSON boolean");
  assert.ok(attr.attribute && "value" in attr.attribute, "attribute.value is there");
  for (const [key, value] of Object.entries(expected)) {
    assert.deepEqual(attr[key], value, `attribute.${key}`);
  }
  return attr;
}

function checkPage(page, expected) {
  for (const key of ["current", "size", "item_total"]) {
    assert.equal(typeof page[key], "number", `page.${key} is a JSON number`);
  }
  assert.equal(typeof page.has_next, "boolean", "page.has_next is a JSON boolean");
  for (const [key, value] of Object.entries(expected)) assert.equal(page[key], value, `page.${key}`);
}

function checkSuccess(res) {
  assert.equal(typeof res.success, "string", "SuccessMessage.success is a string");
  assert.ok(res.success.length > 0);
}

const state = {};

step("connect (full and read-only clients) and create two customers", async () => {
  state.user = await connect(env("FDK_CLIENT_ID"), env("FDK_CLIENT_SECRET"));
  state.reader = await connect(env("FDK_READONLY_CLIENT_ID"), env("FDK_READONLY_CLIENT_SECRET"));
  state.asha = (await state.user.createUser({ body: { phone_number: "9876500001", first_name: "Asha" } })).user;
  state.ravi = (await state.user.createUser({ body: { phone_number: "9876500002", first_name: "Ravi" } })).user;
});

step("createUserAttributeDefinition (string, validations, pinned)", async () => {
  const def = await state.user.createUserAttributeDefinition({
    body: {
      name: "Loyalty tier", type: "string", description: "gold / silver", pinned: true, pin_order: 1,
      customer_editable: false, encrypted: false, is_multi_value: false, default_value: "silver",
      icon: "star", ordering_channels: ["web"], masking: { enabled: false, type: "default" },
      registration: { enabled: true, type: "optional" },
      validations: [{ type: "enum", value: ["gold", "silver"] }, { type: "max_length", value: 10 }],
    },
  });
  state.tier = checkDefinition(def, {
    slug: "loyalty_tier", type: "string", pinned: true, pin_order: 1, default_value: "silver", __v: 0,
    validations: [{ type: "enum", value: ["gold", "silver"] }, { type: "max_length", value: 10 }],
  });
  assert.equal(typeof def.created_by, "string");
});

step("createUserAttributeDefinition (number with a string default, multi-value date, encrypted)", async () => {
  state.score = checkDefinition(await state.user.createUserAttributeDefinition({
    body: { name: "Score", slug: "score", type: "number", default_value: "5",
            validations: [{ type: "min", value: 0 }, { type: "max", value: 100 }] },
  }), { type: "number", default_value: 5 });
  state.visits = checkDefinition(await state.user.createUserAttributeDefinition({
    body: { name: "Visits", type: "date", is_multi_value: true, validations: [{ type: "max_items", value: 3 }] },
  }), { is_multi_value: true, multi_value: true });
  state.secret = checkDefinition(await state.user.createUserAttributeDefinition({
    body: { name: "PAN", type: "string", encrypted: true, validations: [{ type: "regex", value: "^[A-Z]{5}\\d{4}[A-Z]$" }] },
  }), { encrypted: true });
});

step("createUserAttributeDefinition refuses a validation that does not fit (400)", async () => {
  const err = await expectServerError(state.user.createUserAttributeDefinition({
    body: { name: "Bad", type: "number", validations: [{ type: "regex", value: "^1" }] },
  }), 400, "regex on a number");
  assert.match(err.details.message, /regex/);
});

step("getUserAttributeDefinitions: pinned first, filters, paging", async () => {
  const res = await state.user.getUserAttributeDefinitions({ pageNo: 1, pageSize: 10 });
  res.items.forEach((d) => checkDefinition(d));
  assert.deepEqual(res.items.map((d) => d.slug), ["loyalty_tier", "pan", "visits", "score"]);
  checkPage(res.page, { item_total: 4, current: 1, size: 10, has_next: false });
  const numbers = await state.user.getUserAttributeDefinitions({ type: "number" });
  assert.deepEqual(numbers.items.map((d) => d.slug), ["score"]);
  const filtered = await state.user.getUserAttributeDefinitions({
    encrypted: false, pinned: false, name: "S", excludingIds: state.score._id, pageSize: 1, pageNo: 1,
  });
  assert.deepEqual(filtered.items.map((d) => d.slug), ["visits"]);
  checkPage(filtered.page, { item_total: 1, size: 1 });
  const locked = await state.reader.getUserAttributeDefinitions({ isLocked: true, customerEditable: false });
  assert.deepEqual(locked.items, []);
  const bySlug = await state.user.getUserAttributeDefinitions({ slug: "score", pinOrder: 0 });
  assert.deepEqual(bySlug.items.map((d) => d._id), [state.score._id]);
});

step("getUserAttributeDefinitionById (and 404 for an unknown id)", async () => {
  const def = checkDefinition(await state.reader.getUserAttributeDefinitionById({ attributeDefId: state.tier._id }));
  assert.deepEqual(def, state.tier);
  await expectServerError(state.user.getUserAttributeDefinitionById({ attributeDefId: UNKNOWN_ID }), 404,
    "unknown definition");
});

step("updateUserAttributeDefinition sets the fields sent and bumps __v", async () => {
  const def = checkDefinition(await state.user.updateUserAttributeDefinition({
    attributeDefId: state.tier._id, body: { description: "gold, silver or bronze",
      validations: [{ type: "enum", value: ["gold", "silver", "bronze"] }] },
  }), { description: "gold, silver or bronze", name: "Loyalty tier", __v: 1, default_value: "silver" });
  state.tier = def;
});

step("a read-only client cannot write (403)", async () => {
  await expectServerError(state.reader.createUserAttributeDefinition({ body: { name: "X", type: "string" } }),
    403, "create with a read-only client");
  await expectServerError(state.reader.updateUserAttribute({
    attributeDefId: state.tier._id, userId: state.asha._id, body: { attribute: { value: "gold" } },
  }), 403, "set a value with a read-only client");
});

step("updateUserAttribute creates, then replaces, a value", async () => {
  const created = checkAttribute(await state.user.updateUserAttribute({
    attributeDefId: state.tier._id, userId: state.asha._id, body: { attribute: { value: "gold" } },
  }), { attribute: { value: "gold" }, user_id: state.asha._id, name: "Loyalty tier", type: "string",
        customer_overridden: false });
  const replaced = checkAttribute(await state.user.updateUserAttribute({
    attributeDefId: state.tier._id, userId: state.asha._id,
    body: { customer_overridden: true, attribute: { value: "bronze" } },
  }), { attribute: { value: "bronze" }, customer_overridden: true, _id: created._id });
  state.ashaTier = replaced;
});

step("updateUserAttribute refuses a value its definition forbids (400 naming slug and rule)", async () => {
  const err = await expectServerError(state.user.updateUserAttribute({
    attributeDefId: state.tier._id, userId: state.asha._id, body: { attribute: { value: "platinum" } },
  }), 400, "value outside the enum");
  assert.match(err.details.message, /loyalty_tier/);
  assert.match(err.details.message, /enum/);
  await expectServerError(state.user.updateUserAttribute({
    attributeDefId: state.visits._id, userId: state.asha._id, body: { attribute: { value: "2024-05-01" } },
  }), 400, "a scalar for a multi value");
  await expectServerError(state.user.updateUserAttribute({
    attributeDefId: state.tier._id, userId: UNKNOWN_ID, body: { attribute: { value: "gold" } },
  }), 404, "unknown customer");
});

step("an encrypted value round-trips", async () => {
  checkAttribute(await state.user.updateUserAttribute({
    attributeDefId: state.secret._id, userId: state.asha._id, body: { attribute: { value: "ABCDE1234F" } },
  }), { attribute: { value: "ABCDE1234F" } });
});

step("getUserAttribute and getUserAttributeById", async () => {
  const attr = checkAttribute(await state.reader.getUserAttribute({ attributeDefId: state.tier._id,
                                                                    userId: state.asha._id }));
  assert.deepEqual(attr, state.ashaTier);
  const byId = checkAttribute(await state.reader.getUserAttributeById({ attributeId: state.ashaTier._id }));
  assert.deepEqual(byId, state.ashaTier);
  await expectServerError(state.user.getUserAttribute({ attributeDefId: state.tier._id, userId: state.ravi._id }),
    404, "no value yet");
  await expectServerError(state.user.getUserAttributeById({ attributeId: UNKNOWN_ID }), 404, "unknown attribute");
});

step("updateUserAttributes sets several values at once (BulkUserAttribute)", async () => {
  const res = await state.user.updateUserAttributes({
    userId: state.ravi._id,
    body: { attributes: [
      { definition_id: state.tier._id, value: "silver" },
      { definition_id: state.score._id, value: 42 },
      { definition_id: state.visits._id, value: ["2024-05-01", "2024-06-01T00:00:00Z".slice(0, 10)] },
    ] },
  });
  assert.equal(res.success, true);
  assert.equal(res.attributes.length, 3);
  res.attributes.forEach((a) => checkAttribute(a, { user_id: state.ravi._id }));
  assert.deepEqual(res.attributes.map((a) => a.attribute.value), ["silver", 42, ["2024-05-01", "2024-06-01"]]);
});

step("updateUserAttributes is all or nothing", async () => {
  await expectServerError(state.user.updateUserAttributes({
    userId: state.ravi._id,
    body: { attributes: [{ definition_id: state.tier._id, value: "gold" },
                         { definition_id: state.score._id, value: 101 }] },
  }), 400, "one value out of range");
  const tier = await state.user.getUserAttribute({ attributeDefId: state.tier._id, userId: state.ravi._id });
  assert.equal(tier.attribute.value, "silver", "nothing was written");
});

step("getUserAttributesForUser lists a customer's values, paginated", async () => {
  const res = await state.reader.getUserAttributesForUser({ userId: state.ravi._id, pageNo: 1, pageSize: 2 });
  res.items.forEach((a) => checkAttribute(a));
  assert.deepEqual(res.items.map((a) => a.user_attribute_definition_id), [state.tier._id, state.visits._id]);
  checkPage(res.page, { item_total: 3, current: 1, size: 2, has_next: true });
});

step("filterUsersByAttributes: conditions, chosen values, paging (read scope)", async () => {
  const res = await state.reader.filterUsersByAttributes({ body: { query: {
    type: "and", page: 1, limit: 10, definition_ids: [state.score._id],
    conditions: [{ definition_id: state.score._id, type: "gte", value: 40 },
                 { definition_id: state.tier._id, type: "sw", value: "SIL" }],
  } } });
  noNulls(res, "filtered");
  assert.deepEqual(res.items.map((u) => u._id), [state.ravi._id]);
  assert.equal(res.items[0].user_id, state.ravi._id);
  assert.deepEqual(res.items[0].attributes.map((a) => [a.user_attribute_definition_id, a.attribute.value]),
    [[state.score._id, 42]]);
  res.items[0].attributes.forEach((a) => checkAttribute(a));
  checkPage(res.page, { item_total: 1, current: 1, size: 10, has_next: false });
  const either = await state.user.filterUsersByAttributes({ body: { query: {
    type: "or", page: 1, limit: 1, definition_ids: [],
    conditions: [{ definition_id: state.score._id, type: "gte", value: 40 },
                 { definition_id: state.score._id, type: "lt", value: 40 }],
  } } });
  checkPage(either.page, { current: 1, size: 1 });
  assert.equal(either.items.length, 1);
  assert.deepEqual(either.items[0].attributes, []);
  await expectServerError(state.user.filterUsersByAttributes({ body: { query: {
    type: "and", page: 1, limit: 10, conditions: [{ definition_id: state.tier._id, type: "gt", value: "a" }],
  } } }), 400, "an operator that does not fit a string");
});

step("updateUserAttributeDefinition converts the values when the type changes", async () => {
  const def = checkDefinition(await state.user.updateUserAttributeDefinition({
    attributeDefId: state.score._id, body: { type: "string", validations: [] },
  }), { type: "string", default_value: "5" });
  const attr = await state.user.getUserAttribute({ attributeDefId: def._id, userId: state.ravi._id });
  assert.equal(attr.attribute.value, "42");
  await expectServerError(state.user.updateUserAttributeDefinition({
    attributeDefId: state.tier._id, body: { type: "number", validations: [], default_value: "" },
  }), 409, "values that do not convert");
});

step("deleteUserAttribute removes one value", async () => {
  checkSuccess(await state.user.deleteUserAttribute({ attributeDefId: state.tier._id, userId: state.asha._id }));
  await expectServerError(state.user.getUserAttribute({ attributeDefId: state.tier._id, userId: state.asha._id }),
    404, "the deleted value");
  await expectServerError(state.user.deleteUserAttribute({ attributeDefId: state.tier._id, userId: state.asha._id }),
    404, "deleting it again");
});

step("deleteUserAttributesInBulk removes several of a customer's values", async () => {
  checkSuccess(await state.user.deleteUserAttributesInBulk({
    userId: state.ravi._id, body: { definition_ids: [state.tier._id, state.score._id] },
  }));
  const res = await state.user.getUserAttributesForUser({ userId: state.ravi._id });
  assert.deepEqual(res.items.map((a) => a.user_attribute_definition_id), [state.visits._id]);
  await expectServerError(state.user.deleteUserAttributesInBulk({
    userId: state.ravi._id, body: { definition_ids: [UNKNOWN_ID] },
  }), 404, "an unknown definition");
});

step("a locked definition cannot be changed or deleted (409)", async () => {
  const locked = checkDefinition(await state.user.updateUserAttributeDefinition({
    attributeDefId: state.visits._id, body: { is_locked: true },
  }), { is_locked: true });
  await expectServerError(state.user.updateUserAttributeDefinition({
    attributeDefId: locked._id, body: { name: "Renamed" } }), 409, "changing a locked definition");
  await expectServerError(state.user.deleteUserAttributeDefinitionById({ attributeDefId: locked._id }), 409,
    "deleting a locked definition");
});

step("deleteUserAttributeDefinitionById removes the definition and its values", async () => {
  checkSuccess(await state.user.deleteUserAttributeDefinitionById({ attributeDefId: state.secret._id }));
  await expectServerError(state.user.getUserAttributeDefinitionById({ attributeDefId: state.secret._id }), 404,
    "the deleted definition");
  await expectServerError(state.user.getUserAttribute({ attributeDefId: state.secret._id, userId: state.asha._id }),
    404, "a value of the deleted definition");
});

run("SDK attributes check");
