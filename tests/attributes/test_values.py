"""Customers' attribute values through the HTTP API: set, read, list, delete (one and several), their
typed index rows, encryption at rest, the audit trail, and every way a value can be refused."""

import json
import time
from datetime import datetime, timezone
from urllib.parse import urlencode

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import override_settings

from attributes import crypto, services as attribute_services, types
from attributes.models import AttributeDefinition, UserAttribute, UserAttributeValue
from core.actors import Actor
from core.tenancy.models import SCOPE_CUSTOMERS_READ
from users.models import AuditEvent, Customer
from tests.attributes.support import DEFINITIONS, UNKNOWN_ID, assert_attribute, put_value, set_value, value_path
from tests.helpers import assert_error


def snapshot():
    return (sorted(UserAttribute.objects.values_list("id", "definition_id", "customer_id", "value", "ciphertext",
                                                     "version")),
            sorted(UserAttributeValue.objects.values_list("definition_id", "customer_id", "position", "text_value",
                                                          "number_value", "bool_value", "time_value", "digest")),
            AuditEvent.objects.filter(action__startswith="attribute.").count())


def rows_of(definition_id, customer_id):
    return list(UserAttributeValue.objects.filter(definition_id=definition_id, customer_id=customer_id)
                .order_by("position"))


def customer_path(url, user_id, **kwargs):
    return url(f"user_attribute/user/{user_id}", **kwargs)


# =========================================================================== updateUserAttribute


def test_put_creates_with_201_then_updates_with_200(api, url, define, customer, application):
    definition = define(name="Tier")
    response = put_value(api, url, definition["_id"], customer["_id"], "gold")
    assert response.status_code == 201, response.content
    created = assert_attribute(response.json())
    assert created["attribute"] == {"value": "gold"}
    assert created["user_id"] == customer["_id"] and created["application_id"] == application.id
    assert created["user_attribute_definition_id"] == definition["_id"]
    assert created["name"] == "Tier" and created["type"] == "string" and created["slug"] == "tier"
    assert created["customer_overridden"] is False and created["__v"] == 0
    assert created["updated_by"] == api.record.client_id
    response = put_value(api, url, definition["_id"], customer["_id"], "silver", customer_overridden=True)
    assert response.status_code == 200, response.content
    changed = assert_attribute(response.json())
    assert changed["_id"] == created["_id"] and changed["attribute"] == {"value": "silver"}
    assert changed["customer_overridden"] is True and changed["__v"] == 1
    assert changed["created_at"] == created["created_at"]
    assert UserAttribute.objects.count() == 1
    assert [r.text_value for r in rows_of(definition["_id"], customer["_id"])] == ["silver"]
    # the seed's spelling is accepted too; leaving it out keeps the flag
    assert set_value(api, url, definition["_id"], customer["_id"], "x", customer_overriden=False)[
        "customer_overridden"] is False
    assert set_value(api, url, definition["_id"], customer["_id"], "y")["customer_overridden"] is False


@pytest.mark.parametrize("type_name,multi,value,stored,columns", [
    ("string", False, "Gold", "Gold", [{"text_value": "Gold", "text_lower": "gold"}]),
    ("string", False, "", "", [{"text_value": "", "text_lower": ""}]),
    ("number", False, 42, 42, [{"number_value": 42.0}]),
    ("number", False, 2.5, 2.5, [{"number_value": 2.5}]),
    ("number", False, 3.0, 3, [{"number_value": 3.0}]),
    ("boolean", False, False, False, [{"bool_value": False}]),
    ("date", False, "2024-05-01", "2024-05-01", [{"time_value": datetime(2024, 5, 1, tzinfo=timezone.utc)}]),
    ("datetime", False, "2024-05-01T10:30:00.123456+05:30", "2024-05-01T05:00:00.123Z",
     [{"time_value": datetime(2024, 5, 1, 5, 0, 0, 123000, tzinfo=timezone.utc)}]),
    ("datetime", False, "2024-05-01 10:30", "2024-05-01T10:30:00.000Z",
     [{"time_value": datetime(2024, 5, 1, 10, 30, tzinfo=timezone.utc)}]),
    ("json", False, {"b": [1, 2], "a": "x"}, {"b": [1, 2], "a": "x"},
     [{"digest": types.digest_candidates({"a": "x", "b": [1, 2]})[0]}]),
    ("json", False, [1, "two"], [1, "two"], [{"digest": types.digest_candidates([1, "two"])[0]}]),
    ("string", True, ["Red", "blue"], ["Red", "blue"],
     [{"text_value": "Red", "text_lower": "red"}, {"text_value": "blue", "text_lower": "blue"}]),
    ("number", True, [1, 2, 2], [1, 2, 2], [{"number_value": 1.0}, {"number_value": 2.0}, {"number_value": 2.0}]),
    ("date", True, [], [], []),
])
def test_values_are_stored_typed_one_index_row_per_element(api, url, define, customer, type_name, multi, value,
                                                            stored, columns):
    definition = define(name="X", type=type_name, multi_value=multi)
    body = set_value(api, url, definition["_id"], customer["_id"], value)
    assert body["attribute"] == {"value": stored}
    assert UserAttribute.objects.get().value == stored
    rows = rows_of(definition["_id"], customer["_id"])
    assert [r.position for r in rows] == list(range(len(columns)))
    all_columns = ("text_value", "text_lower", "number_value", "bool_value", "time_value", "digest")
    for row, expected in zip(rows, columns):
        assert {c: getattr(row, c) for c in all_columns} == {c: expected.get(c) for c in all_columns}


@pytest.mark.parametrize("type_name,multi,value,fragments", [
    ("string", False, 5, ["must be a string"]),
    ("string", False, ["a"], ["not a list"]),
    ("string", False, "x" * 1001, ["1000 characters"]),
    ("string", False, "nul\x00", ["NUL"]),
    ("number", False, "42", ["must be a number"]),
    ("number", False, True, ["must be a number"]),
    ("number", False, 2**60, ["integer between"]),
    ("boolean", False, "true", ["true or false"]),
    ("boolean", False, 1, ["true or false"]),
    ("date", False, "2024-02-30", ["date such as"]),
    ("date", False, "2024-05-01T00:00:00Z", ["date such as"]),
    ("date", False, 20240501, ["date such as"]),
    ("datetime", False, "2024-05-01", ["ISO 8601"]),
    ("datetime", False, "tomorrow", ["ISO 8601"]),
    ("json", False, {"deep": json.loads("[" * 25 + "]" * 25)}, ["nested"]),
    ("json", False, {"big": "x" * 20000}, ["bytes"]),
    ("string", True, "a", ["must be a list", "multi value"]),
    ("string", True, ["a", 2], ["item 1", "must be a string"]),
    ("number", True, list(range(101)), ["at most 100 items"]),
])
def test_wrong_values_are_400s_naming_the_definition_and_rule(api, url, define, customer, type_name, multi, value,
                                                               fragments):
    definition = define(name="My Attr", slug="my_attr", type=type_name, multi_value=multi)
    before = snapshot()
    body = assert_error(put_value(api, url, definition["_id"], customer["_id"], value), 400, "my_attr",
                        *fragments, code="invalid_attribute_value")
    assert body["meta"]["slug"] == "my_attr" and body["meta"]["definition_id"] == definition["_id"]
    assert snapshot() == before


@pytest.mark.parametrize("type_name,multi,validations,good,bad,rule", [
    ("string", False, [{"type": "min_length", "value": 2}], "ab", "a", "min_length"),
    ("string", False, [{"type": "max_length", "value": 3}], "abc", "abcd", "max_length"),
    ("string", False, [{"type": "regex", "value": "^[A-Z]{2}\\d+$"}], "AB12", "ab12", "regex"),
    ("string", False, [{"type": "enum", "value": ["gold", "silver"]}], "gold", "Gold", "enum"),
    ("number", False, [{"type": "min", "value": 1}], 1, 0.5, "min"),
    ("number", False, [{"type": "max", "value": 10}], 10, 11, "max"),
    ("number", False, [{"type": "enum", "value": [1, 2]}], 2.0, 3, "enum"),
    ("date", False, [{"type": "min", "value": "2024-01-01"}], "2024-01-01", "2023-12-31", "min"),
    ("datetime", False, [{"type": "max", "value": "2024-01-01T00:00:00Z"}], "2024-01-01T05:00:00+05:30",
     "2024-01-01T00:00:01Z", "max"),
    ("datetime", False, [{"type": "enum", "value": ["2024-01-01T00:00:00Z"]}], "2024-01-01T00:00:00.000Z",
     "2024-01-02T00:00:00Z", "enum"),
    ("string", True, [{"type": "max_length", "value": 2}], ["ab", "c"], ["ab", "cde"], "max_length"),
    ("string", True, [{"type": "min_items", "value": 1}], ["a"], [], "min_items"),
    ("string", True, [{"type": "max_items", "value": 2}], ["a", "b"], ["a", "b", "c"], "max_items"),
])
def test_validations_are_enforced(api, url, define, customer, type_name, multi, validations, good, bad, rule):
    definition = define(name="Checked", slug="checked", type=type_name, multi_value=multi, validations=validations)
    assert put_value(api, url, definition["_id"], customer["_id"], good).status_code == 201
    body = assert_error(put_value(api, url, definition["_id"], customer["_id"], bad), 400, "checked", f"({rule})")
    assert body["meta"]["rule"] == rule


def test_a_pathological_regex_runs_in_bounded_time(api, url, define, customer):
    definition = define(name="Code", type="string", validations=[{"type": "regex", "value": r"(\d+)+\d+\d+x"}])
    started = time.monotonic()
    assert_error(put_value(api, url, definition["_id"], customer["_id"], "1" * 1000), 400, "regex")
    assert time.monotonic() - started < 2  # re.search would take minutes


@pytest.mark.parametrize("body,fragment", [
    ({}, "attribute"),
    ({"attribute": "gold"}, "attribute"),
    ({"attribute": {}}, "value"),
    ({"attribute": {"value": None}}, "null"),
    ({"attribute": {"value": "x"}, "customer_overridden": "yes"}, "customer_overridden"),
    ({"attribute": {"value": "x"}, "customer_overridden": True, "customer_overriden": False}, "disagree"),
])
def test_malformed_bodies_are_400s(api, url, define, customer, body, fragment):
    definition = define(name="Tier")
    assert_error(api.put(value_path(url, definition["_id"], customer["_id"]), body, format="json"), 400, fragment)
    assert not UserAttribute.objects.exists()


def test_unknown_and_foreign_ids_are_404s(api, url, define, customer, create_customer, other_application):
    definition = define(name="Tier")
    assert_error(put_value(api, url, UNKNOWN_ID, customer["_id"], "x"), 404, UNKNOWN_ID)
    assert_error(put_value(api, url, definition["_id"], UNKNOWN_ID, "x"), 404, UNKNOWN_ID)
    assert_error(put_value(api, url, "bad", customer["_id"], "x"), 400, "attribute_def_id")
    assert_error(put_value(api, url, definition["_id"], "bad", "x"), 400, "user_id")
    # the other application's definition with this customer, and its customer with this definition
    theirs = api.post(url(DEFINITIONS, application_id=other_application.id), {"name": "T", "type": "string"},
                      format="json").json()
    their_customer = api.post(url("customers", application_id=other_application.id),
                              {"phone_number": "9123456789"}, format="json").json()["user"]
    assert_error(put_value(api, url, theirs["_id"], customer["_id"], "x"), 404)
    assert_error(put_value(api, url, definition["_id"], their_customer["_id"], "x"), 404)
    other_url = lambda suffix, **kw: url(suffix, application_id=other_application.id, **kw)  # noqa: E731
    assert_error(put_value(api, other_url, definition["_id"], their_customer["_id"], "x"), 404)
    assert_error(put_value(api, other_url, theirs["_id"], customer["_id"], "x"), 404)
    for method in ("get", "delete"):
        assert_error(getattr(api, method)(value_path(url, theirs["_id"], customer["_id"])), 404)
        assert_error(getattr(api, method)(value_path(url, definition["_id"], their_customer["_id"])), 404)
    assert not UserAttribute.objects.exists()


def test_archived_customers_cannot_be_changed_but_can_be_read(api, url, define, customer):
    definition = define(name="Tier")
    set_value(api, url, definition["_id"], customer["_id"], "gold")
    assert api.put(url("customers/archive"), {"user_id": customer["_id"]}, format="json").status_code == 200
    assert_error(put_value(api, url, definition["_id"], customer["_id"], "x"), 404)
    assert_error(api.delete(value_path(url, definition["_id"], customer["_id"])), 404)
    assert api.get(value_path(url, definition["_id"], customer["_id"])).json()["attribute"] == {"value": "gold"}


def test_every_write_is_on_the_customer_timeline(api, url, define, customer):
    definition = define(name="Tier")
    set_value(api, url, definition["_id"], customer["_id"], "gold")
    set_value(api, url, definition["_id"], customer["_id"], "silver")
    assert api.delete(value_path(url, definition["_id"], customer["_id"])).status_code == 200
    events = list(AuditEvent.objects.filter(customer_id=customer["_id"], action__startswith="attribute.")
                  .order_by("id"))
    assert [e.action for e in events] == ["attribute.updated", "attribute.updated", "attribute.deleted"]
    assert events[0].data == {"definition_id": definition["_id"], "slug": "tier", "created": True, "value": "gold"}
    assert events[1].data["created"] is False and events[1].data["value"] == "silver"
    assert events[2].data == {"definition_id": definition["_id"], "slug": "tier"}
    assert all(e.actor_type == "api_client" and e.actor_id == api.record.client_id for e in events)


# =========================================================================== getUserAttribute / getUserAttributeById


def test_get_one_value(api, url, define, customer):
    definition = define(name="Tier")
    assert_error(api.get(value_path(url, definition["_id"], customer["_id"])), 404, "tier",
                 code="user_attribute_not_found")
    created = set_value(api, url, definition["_id"], customer["_id"], "gold")
    response = api.get(value_path(url, definition["_id"], customer["_id"]))
    assert response.status_code == 200
    assert assert_attribute(response.json()) == created


def test_get_by_attribute_id(api, url, define, customer, other_application):
    definition = define(name="Tier")
    created = set_value(api, url, definition["_id"], customer["_id"], "gold")
    response = api.get(url(f"user_attribute/attribute/{created['_id']}"))
    assert response.status_code == 200 and assert_attribute(response.json()) == created
    assert_error(api.get(url(f"user_attribute/attribute/{UNKNOWN_ID}")), 404, UNKNOWN_ID)
    assert_error(api.get(url(f"user_attribute/attribute/{created['_id']}", application_id=other_application.id)),
                 404)
    assert_error(api.get(url("user_attribute/attribute/nope")), 400, "attribute_id")


# =========================================================================== getUserAttributesForUser


def test_list_a_customers_values_paginated_in_definition_order(api, url, define, customer, create_customer):
    plain = define(name="Plain")
    pinned = define(name="Pinned", pinned=True, pin_order=1)
    newest = define(name="Newest", type="number")
    for definition, value in ((plain, "p"), (pinned, "q"), (newest, 3)):
        set_value(api, url, definition["_id"], customer["_id"], value)
    set_value(api, url, plain["_id"], create_customer()["_id"], "someone else")
    response = api.get(customer_path(url, customer["_id"]))
    assert response.status_code == 200
    body = response.json()
    assert [assert_attribute(i)["slug"] for i in body["items"]] == ["pinned", "newest", "plain"]
    assert body["page"] == {"type": "number", "current": 1, "size": 10, "item_total": 3, "has_next": False}
    body = api.get(customer_path(url, customer["_id"]) + "?" + urlencode({"page_size": 2, "page_no": 2})).json()
    assert [i["slug"] for i in body["items"]] == ["plain"] and body["page"]["item_total"] == 3


def test_list_for_unknown_or_foreign_customers(api, url, other_application):
    assert_error(api.get(customer_path(url, UNKNOWN_ID)), 404)
    theirs = api.post(url("customers", application_id=other_application.id), {"phone_number": "9123456789"},
                      format="json").json()["user"]
    assert_error(api.get(customer_path(url, theirs["_id"])), 404)
    body = api.get(customer_path(url, theirs["_id"], application_id=other_application.id)).json()
    assert body["items"] == [] and body["page"]["item_total"] == 0


# =========================================================================== updateUserAttributes


def test_set_several_values_at_once(api, url, define, customer):
    tier, score = define(name="Tier"), define(name="Score", type="number")
    set_value(api, url, tier["_id"], customer["_id"], "bronze")
    response = api.post(customer_path(url, customer["_id"]), {"attributes": [
        {"definition_id": tier["_id"], "value": "gold"}, {"definition_id": score["_id"], "value": 7}]}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True
    assert [assert_attribute(a)["attribute"]["value"] for a in body["attributes"]] == ["gold", 7]
    assert [a["__v"] for a in body["attributes"]] == [1, 0]
    assert UserAttributeValue.objects.filter(customer_id=customer["_id"]).count() == 2


def test_set_several_is_all_or_nothing(api, url, define, customer):
    tier = define(name="Tier", validations=[{"type": "enum", "value": ["gold", "silver"]}])
    score = define(name="Score", type="number")
    set_value(api, url, tier["_id"], customer["_id"], "silver")
    before = snapshot()
    body = assert_error(api.post(customer_path(url, customer["_id"]), {"attributes": [
        {"definition_id": tier["_id"], "value": "gold"}, {"definition_id": score["_id"], "value": "7"},
        {"definition_id": tier["_id"], "value": "platinum"}]}, format="json"), 400, "more than once")
    body = assert_error(api.post(customer_path(url, customer["_id"]), {"attributes": [
        {"definition_id": tier["_id"], "value": "platinum"}, {"definition_id": score["_id"], "value": "7"}]},
        format="json"), 400, "attributes[0]", "tier", "enum", "attributes[1]", "score", "number", "nothing")
    assert [e["rule"] for e in body["meta"]["errors"]] == ["enum", "type"]
    assert_error(api.post(customer_path(url, customer["_id"]), {"attributes": [
        {"definition_id": tier["_id"], "value": "gold"}, {"definition_id": UNKNOWN_ID, "value": 1}]},
        format="json"), 404, UNKNOWN_ID, "nothing was changed")
    assert snapshot() == before


@pytest.mark.parametrize("body,fragment", [
    ({}, "attributes"),
    ({"attributes": []}, "attributes"),
    ({"attributes": [{"value": 1}]}, "definition_id"),
    ({"attributes": [{"definition_id": "x", "value": 1}]}, "definition_id"),
    ({"attributes": [{"definition_id": UNKNOWN_ID}]}, "value"),
    ({"attributes": "all"}, "attributes"),
])
def test_set_several_malformed(api, url, customer, body, fragment):
    assert_error(api.post(customer_path(url, customer["_id"]), body, format="json"), 400, fragment)


def test_set_several_for_unknown_customer(api, url, define):
    tier = define(name="Tier")
    assert_error(api.post(customer_path(url, UNKNOWN_ID), {"attributes": [{"definition_id": tier["_id"],
                                                                          "value": "x"}]}, format="json"), 404)


# =========================================================================== deleteUserAttribute(s)


def test_delete_one_value(api, url, define, customer):
    definition = define(name="Tags", multi_value=True)
    set_value(api, url, definition["_id"], customer["_id"], ["a", "b"])
    response = api.delete(value_path(url, definition["_id"], customer["_id"]))
    assert response.status_code == 200 and isinstance(response.json()["success"], str)
    assert not UserAttribute.objects.exists() and not UserAttributeValue.objects.exists()
    assert_error(api.delete(value_path(url, definition["_id"], customer["_id"])), 404)


def test_delete_several_values(api, url, define, customer, create_customer):
    one, two, three = define(name="One"), define(name="Two"), define(name="Three")
    other = create_customer()
    for definition in (one, two, three):
        set_value(api, url, definition["_id"], customer["_id"], "x")
        set_value(api, url, definition["_id"], other["_id"], "y")
    response = api.delete(customer_path(url, customer["_id"]), {"definition_ids": [one["_id"], two["_id"]]},
                          format="json")
    assert response.status_code == 200, response.content
    assert response.json()["success"] == "true"
    assert sorted(UserAttribute.objects.filter(customer_id=customer["_id"]).values_list("definition_id", flat=True)) \
        == [three["_id"]]
    assert UserAttribute.objects.filter(customer_id=other["_id"]).count() == 3
    assert UserAttributeValue.objects.filter(customer_id=customer["_id"]).count() == 1
    # a definition the customer has no value for is fine; the query-string form works too
    response = api.delete(customer_path(url, customer["_id"]) + f"?definition_ids={one['_id']},{three['_id']}")
    assert response.status_code == 200, response.content
    assert not UserAttribute.objects.filter(customer_id=customer["_id"]).exists()
    assert AuditEvent.objects.filter(customer_id=customer["_id"], action="attribute.deleted").count() == 3


def test_delete_several_refuses_unknown_definitions_and_deletes_nothing(api, url, define, customer):
    one = define(name="One")
    set_value(api, url, one["_id"], customer["_id"], "x")
    before = snapshot()
    assert_error(api.delete(customer_path(url, customer["_id"]), {"definition_ids": [one["_id"], UNKNOWN_ID]},
                            format="json"), 404, UNKNOWN_ID)
    assert_error(api.delete(customer_path(url, customer["_id"]), {"definition_ids": []}, format="json"), 400,
                 "definition_ids")
    assert_error(api.delete(customer_path(url, customer["_id"]), {"definition_ids": ["x"]}, format="json"), 400,
                 "definition_ids")
    assert_error(api.delete(customer_path(url, customer["_id"])), 400, "definition_ids")
    assert snapshot() == before


# =========================================================================== scopes


def test_value_reads_need_read_and_writes_need_write(api, url, make_client, define, customer):
    definition = define(name="Tier")
    created = set_value(api, url, definition["_id"], customer["_id"], "gold")
    reader = make_client(scopes=[SCOPE_CUSTOMERS_READ])
    assert reader.get(value_path(url, definition["_id"], customer["_id"])).status_code == 200
    assert reader.get(customer_path(url, customer["_id"])).status_code == 200
    assert reader.get(url(f"user_attribute/attribute/{created['_id']}")).status_code == 200
    before = snapshot()
    assert_error(put_value(reader, url, definition["_id"], customer["_id"], "x"), 403, "write")
    assert_error(reader.delete(value_path(url, definition["_id"], customer["_id"])), 403)
    assert_error(reader.post(customer_path(url, customer["_id"]),
                             {"attributes": [{"definition_id": definition["_id"], "value": "x"}]}, format="json"), 403)
    assert_error(reader.delete(customer_path(url, customer["_id"]), {"definition_ids": [definition["_id"]]},
                               format="json"), 403)
    assert snapshot() == before
    assert_error(make_client(company_id=777).get(customer_path(url, customer["_id"])), 403)


# =========================================================================== encryption


@pytest.fixture
def secret(define):
    return define(name="National ID", slug="national_id", type="string", encrypted=True,
                  validations=[{"type": "regex", "value": "^[A-Z]{5}\\d{4}[A-Z]$"}])


def test_encrypted_values_are_never_stored_in_clear(api, url, secret, customer):
    clear = "ABCDE1234F"
    body = set_value(api, url, secret["_id"], customer["_id"], clear)
    assert body["attribute"] == {"value": clear}  # readable through the API
    stored = UserAttribute.objects.get()
    assert stored.value is None and stored.ciphertext and clear not in stored.ciphertext
    assert json.loads(crypto.decrypt(stored.ciphertext)) == clear
    row = UserAttributeValue.objects.get()
    assert (row.text_value, row.text_lower, row.number_value, row.bool_value, row.time_value) == (None,) * 5
    assert row.digest in types.digest_candidates(clear) and clear not in row.digest
    events = AuditEvent.objects.filter(customer_id=customer["_id"], action__startswith="attribute.")
    for event in events:
        assert clear not in json.dumps(event.data) and event.data["encrypted"] is True
    # nothing of the value anywhere in the database rows of the attribute tables
    dumped = json.dumps([list(UserAttribute.objects.values()), list(UserAttributeValue.objects.values()),
                         list(AuditEvent.objects.values("data"))], default=str)
    assert clear not in dumped and clear.lower() not in dumped
    assert api.get(customer_path(url, customer["_id"])).json()["items"][0]["attribute"] == {"value": clear}
    assert api.get(url(f"user_attribute/attribute/{body['_id']}")).json()["attribute"] == {"value": clear}


def test_encrypted_values_are_validated_and_errors_do_not_echo_them(api, url, secret, customer, caplog):
    body = assert_error(put_value(api, url, secret["_id"], customer["_id"], "not-an-id-xyz"), 400, "national_id",
                        "regex")
    assert "not-an-id-xyz" not in body["message"] and "not-an-id-xyz" not in caplog.text


def test_encrypted_multi_values_index_each_element_by_digest(api, url, define, customer):
    definition = define(name="Secrets", type="number", encrypted=True, multi_value=True)
    set_value(api, url, definition["_id"], customer["_id"], [7, 7.0, 8])
    rows = list(UserAttributeValue.objects.order_by("position"))
    assert [r.digest for r in rows] == [types.digest_candidates(7)[0]] * 2 + [types.digest_candidates(8)[0]]
    assert all(r.number_value is None for r in rows)


KEY_A, KEY_B = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_key_rotation(api, url, secret, customer):
    with override_settings(ATTRIBUTE_ENCRYPTION_KEYS=[KEY_A]):
        set_value(api, url, secret["_id"], customer["_id"], "ABCDE1234F")
        old_digest = UserAttributeValue.objects.get().digest
    with override_settings(ATTRIBUTE_ENCRYPTION_KEYS=[KEY_B, KEY_A]):
        # still readable, and equality still finds it (every key's digest is a candidate)
        assert api.get(value_path(url, secret["_id"], customer["_id"])).json()["attribute"]["value"] == "ABCDE1234F"
        assert old_digest in types.digest_candidates("ABCDE1234F")
        call_command("rotate_attribute_keys", stdout=open("/dev/null", "w"))
        assert UserAttributeValue.objects.get().digest == types.digest_candidates("ABCDE1234F")[0] != old_digest
    with override_settings(ATTRIBUTE_ENCRYPTION_KEYS=[KEY_B]):  # the old key can go now
        assert api.get(value_path(url, secret["_id"], customer["_id"])).json()["attribute"]["value"] == "ABCDE1234F"
    with override_settings(ATTRIBUTE_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]):
        assert_error(api.get(value_path(url, secret["_id"], customer["_id"])), 500, "decrypted",
                     code="attribute_decryption_failed")


def test_a_malformed_key_setting_is_reported(secret):
    with override_settings(ATTRIBUTE_ENCRYPTION_KEYS=["not a key"]):
        with pytest.raises(ImproperlyConfigured, match=r"ATTRIBUTE_ENCRYPTION_KEYS\[0\]"):
            crypto.encrypt("x")


def test_without_keys_one_is_derived_from_the_secret_key():
    with override_settings(ATTRIBUTE_ENCRYPTION_KEYS=[], SECRET_KEY="one"):
        token = crypto.encrypt("hello")
        assert crypto.decrypt(token) == "hello"
        digest_one = crypto.digest("x")
    with override_settings(ATTRIBUTE_ENCRYPTION_KEYS=[], SECRET_KEY="two"):
        with pytest.raises(crypto.DecryptionFailed):
            crypto.decrypt(token)
        assert crypto.digest("x") != digest_one


# =========================================================================== services used directly


def test_store_value_for_the_bulk_updaters(application, define, customer):
    definition = AttributeDefinition.objects.get(id=define(name="Tier")["_id"])
    value = attribute_services.validate_value(definition, "gold")
    attribute, created = attribute_services.store_value(definition, customer["_id"], value, Actor.system("test"),
                                                        audit=False)
    assert created and attribute.value == "gold"
    assert not AuditEvent.objects.filter(action__startswith="attribute.").exists()
    with pytest.raises(Exception, match="tier"):
        attribute_services.validate_value(definition, 5)


def test_purging_a_customer_removes_their_values(api, url, define, customer):
    definition = define(name="Tier")
    set_value(api, url, definition["_id"], customer["_id"], "gold")
    Customer.objects.filter(id=customer["_id"]).delete()
    assert not UserAttribute.objects.exists() and not UserAttributeValue.objects.exists()
