"""Customer attribute definitions through the HTTP API: create, list, get, update (with type changes),
delete, and every way a definition can be refused."""

from urllib.parse import urlencode

import pytest

from attributes import services as attribute_services
from attributes.models import AttributeDefinition, UserAttribute, UserAttributeValue
from core.tenancy.models import SCOPE_CUSTOMERS_READ, SCOPE_SETTINGS_WRITE
from tests.attributes.support import DEFINITIONS, UNKNOWN_ID, assert_definition, set_value
from tests.helpers import assert_error


def listing(api, url, **params):
    response = api.get(url(DEFINITIONS) + ("?" + urlencode(params) if params else ""))
    assert response.status_code == 200, response.content
    body = response.json()
    for item in body["items"]:
        assert_definition(item)
    return body


def slugs(api, url, **params):
    return [item["slug"] for item in listing(api, url, **params)["items"]]


def create(api, url, **body):
    return api.post(url(DEFINITIONS), body, format="json")


def update(api, url, definition_id, **body):
    return api.put(url(f"{DEFINITIONS}/{definition_id}"), body, format="json")


def updated(api, url, definition_id, **body):
    response = update(api, url, definition_id, **body)
    assert response.status_code == 200, response.content
    return assert_definition(response.json())


# =========================================================================== createUserAttributeDefinition


def test_create_answers_201_with_the_sdk_shape_and_defaults(api, url, application):
    response = create(api, url, name="Loyalty tier", type="string", description="Gold, silver or bronze")
    assert response.status_code == 201, response.content
    body = assert_definition(response.json())
    assert body["slug"] == "loyalty_tier"
    assert body["application_id"] == application.id
    assert body["type"] == "string"
    assert body["multi_value"] is False and body["is_multi_value"] is False
    for flag in ("customer_editable", "encrypted", "pinned", "is_locked"):
        assert body[flag] is False
    assert body["pin_order"] == 0
    assert body["validations"] == [] and body["default_value"] is None
    assert body["masking"] == {"enabled": False, "type": ""} and body["registration"] == {"enabled": False, "type": ""}
    assert body["icon"] == "" and body["ordering_channels"] == []
    assert body["__v"] == 0
    assert body["created_by"] == api.record.client_id == body["updated_by"]
    stored = AttributeDefinition.objects.get(id=body["_id"])
    assert stored.application_id == application.id and stored.name == "Loyalty tier"


def test_create_keeps_every_field_sent(api, url):
    response = create(api, url, name="Favourite colours", slug="colours", type="string", is_multi_value=True,
                      customer_editable=True, encrypted=False, pinned=True, pin_order=3, icon="palette",
                      ordering_channels=["web", "pos"], masking={"enabled": True, "type": "default"},
                      registration={"enabled": True, "type": "optional"}, default_value='["red"]',
                      validations=[{"type": "max_length", "value": 20}, {"type": "max_items", "value": 5}])
    body = assert_definition(response.json())
    assert response.status_code == 201
    assert body["slug"] == "colours" and body["multi_value"] is True and body["is_multi_value"] is True
    assert body["customer_editable"] is True and body["pinned"] is True and body["pin_order"] == 3
    assert body["icon"] == "palette" and body["ordering_channels"] == ["web", "pos"]
    assert body["masking"] == {"enabled": True, "type": "default"}
    assert body["registration"] == {"enabled": True, "type": "optional"}
    assert body["default_value"] == ["red"]
    assert body["validations"] == [{"type": "max_length", "value": 20}, {"type": "max_items", "value": 5}]


def test_slug_is_derived_from_the_name_and_made_unique(api, url):
    first = create(api, url, name="Favourite Café!", type="string").json()
    second = create(api, url, name="favourite café", type="number").json()
    third = create(api, url, name="Favourite-Café", type="number").json()
    assert [first["slug"], second["slug"], third["slug"]] == ["favourite_cafe", "favourite_cafe_2",
                                                              "favourite_cafe_3"]
    assert create(api, url, name="!!!", type="string").json()["slug"] == "attribute"


def test_a_slug_sent_twice_is_a_409_case_insensitively(api, url, other_application):
    assert create(api, url, name="Tier", slug="tier", type="string").status_code == 201
    assert_error(create(api, url, name="Other", slug="TIER", type="string"), 409, "slug", "tier",
                 code="duplicate_slug")
    # another application of the company may use it
    response = api.post(url(DEFINITIONS, application_id=other_application.id),
                        {"name": "Tier", "slug": "tier", "type": "string"}, format="json")
    assert response.status_code == 201


@pytest.mark.parametrize("slug", ["has space", "-leading", "a" * 101, "émoji", "a.b"])
def test_a_malformed_slug_is_a_400(api, url, slug):
    assert_error(create(api, url, name="X", slug=slug, type="string"), 400, "slug")


def test_multi_value_spellings(api, url):
    assert create(api, url, name="A", type="string", multi_value=True).json()["is_multi_value"] is True
    assert create(api, url, name="B", type="string", is_multi_value=True).json()["multi_value"] is True
    assert_error(create(api, url, name="C", type="string", multi_value=True, is_multi_value=False), 400,
                 "multi_value")


@pytest.mark.parametrize("sent,stored", [("string", "string"), ("text", "string"), ("Number", "number"),
                                         ("boolean", "boolean"), ("date", "date"), ("datetime", "datetime"),
                                         ("json", "json")])
def test_types_and_their_spellings(api, url, sent, stored):
    assert create(api, url, name="X", type=sent).json()["type"] == stored


@pytest.mark.parametrize("body,fragments", [
    ({"type": "string"}, ["name", "required"]),
    ({"name": "   ", "type": "string"}, ["name"]),
    ({"name": "X"}, ["type", "required"]),
    ({"name": "X", "type": "colour"}, ["type", "colour", "string, number"]),
    ({"name": 5, "type": "string"}, ["name", "string"]),
    ({"name": "X", "type": "string", "pinned": "true"}, ["pinned", "true or false"]),
    ({"name": "X", "type": "string", "pin_order": 1.5}, ["pin_order", "whole number"]),
    ({"name": "X", "type": "string", "pin_order": -1}, ["pin_order"]),
    ({"name": "X", "type": "string", "pin_order": "2"}, ["pin_order"]),
    ({"name": "X", "type": "string", "validations": {"type": "min"}}, ["validations"]),
    ({"name": "X", "type": "string", "validations": ["max_length"]}, ["validations"]),
    ({"name": "X", "type": "string", "ordering_channels": "web"}, ["ordering_channels"]),
    ({"name": "X", "type": "string", "masking": {"enabled": "yes"}}, ["masking.enabled"]),
    ({"name": "X", "type": "string", "description": None}, ["description"]),
])
def test_wrong_fields_are_400s_naming_them(api, url, body, fragments):
    assert_error(api.post(url(DEFINITIONS), body, format="json"), 400, *fragments)
    assert not AttributeDefinition.objects.exists()


def test_body_must_be_a_json_object(api, url):
    assert_error(api.post(url(DEFINITIONS), [1, 2], format="json"), 400, "JSON object")


# =========================================================================== validations


@pytest.mark.parametrize("type_name,validations", [
    ("string", [{"type": "min_length", "value": 2}, {"type": "max_length", "value": 10},
                {"type": "regex", "value": "^[A-Z]+$"}, {"type": "enum", "value": ["A", "B"]}]),
    ("number", [{"type": "min", "value": 0}, {"type": "max", "value": 99.5}, {"type": "enum", "value": [1, 2.5]}]),
    ("date", [{"type": "min", "value": "2000-01-01"}, {"type": "max", "value": "2030-12-31"}]),
    ("datetime", [{"type": "min", "value": "2000-01-01T00:00:00Z"}, {"type": "max", "value": "2030-12-31T10:00:00+05:30"}]),
    ("boolean", []),
    ("json", []),
])
def test_validations_that_fit_the_type_are_kept(api, url, type_name, validations):
    body = create(api, url, name="X", type=type_name, validations=validations).json()
    assert [v["type"] for v in body["validations"]] == [v["type"] for v in validations]


def test_validations_are_stored_canonically(api, url):
    body = create(api, url, name="X", type="string",
                  validations=[{"type": "min", "value": 1}, {"type": "pattern", "value": "^a"},
                               {"type": "choices", "value": ["ab", "ac"]}]).json()
    assert body["validations"] == [{"type": "min_length", "value": 1}, {"type": "regex", "value": "^a"},
                                   {"type": "enum", "value": ["ab", "ac"]}]
    body = create(api, url, name="Y", type="datetime",
                  validations=[{"type": "max", "value": "2030-12-31T10:00:00+05:30"}]).json()
    assert body["validations"] == [{"type": "max", "value": "2030-12-31T04:30:00.000Z"}]


@pytest.mark.parametrize("type_name,validation,fragments", [
    ("number", {"type": "regex", "value": "^1"}, ["regex", "does not apply to number"]),
    ("number", {"type": "max_length", "value": 3}, ["max_length", "number"]),
    ("boolean", {"type": "min", "value": 1}, ["min", "boolean"]),
    ("boolean", {"type": "enum", "value": [True]}, ["enum", "boolean"]),
    ("date", {"type": "regex", "value": "x"}, ["regex", "date"]),
    ("json", {"type": "max", "value": 3}, ["max", "json"]),
    ("string", {"type": "min_items", "value": 1}, ["min_items", "multi value"]),
    ("string", {"type": "colour", "value": 1}, ["unknown validation", "colour"]),
    ("string", {"type": "max_length", "value": -1}, ["max_length", "whole number"]),
    ("string", {"type": "max_length", "value": "5"}, ["max_length", "whole number"]),
    ("string", {"type": "max_length", "value": 5000}, ["max_length"]),
    ("number", {"type": "min", "value": "5"}, ["min", "number"]),
    ("date", {"type": "min", "value": "2024-02-30"}, ["min", "date"]),
    ("datetime", {"type": "max", "value": "yesterday"}, ["max", "date-time"]),
    ("string", {"type": "enum", "value": []}, ["enum"]),
    ("string", {"type": "enum", "value": "gold"}, ["enum"]),
    ("string", {"type": "enum", "value": ["a", 1]}, ["enum[1]", "string"]),
    ("string", {"type": "enum", "value": ["a", "a"]}, ["enum", "twice"]),
    ("number", {"type": "enum", "value": [1, True]}, ["enum[1]", "number"]),
    ("string", {"type": "regex", "value": "(unclosed"}, ["regex", "missing )"]),
    ("string", {"type": "regex", "value": ""}, ["regex", "empty"]),
    ("string", {"type": "regex", "value": 5}, ["regex", "string"]),
    ("string", {"type": "regex", "value": "a" * 201}, ["regex", "200 characters"]),
    ("string", {"type": "regex", "value": r"(a)\1"}, ["regex", "backreferences"]),
    ("string", {"type": "regex", "value": "(?=a)b"}, ["regex", "lookahead"]),
    ("string", {"type": "regex", "value": "(?i)gold"}, ["regex", "flags"]),
    ("string", {"type": "regex", "value": "a++"}, ["regex", "not supported"]),
    ("string", {"type": "regex", "value": "(?:x{1,30}){1,40}"}, ["regex", "too complex"]),
])
def test_validations_that_do_not_fit_are_400s_naming_them(api, url, type_name, validation, fragments):
    response = create(api, url, name="X", type=type_name, validations=[validation])
    body = assert_error(response, 400, *fragments)
    assert body["code"] == "invalid_validation"
    assert not AttributeDefinition.objects.exists()


@pytest.mark.parametrize("type_name,validations,fragment", [
    ("number", [{"type": "min", "value": 5}, {"type": "max", "value": 1}], "'min' is greater than 'max'"),
    ("string", [{"type": "min_length", "value": 5}, {"type": "max_length", "value": 1}], "min_length"),
    ("date", [{"type": "min", "value": "2024-02-01"}, {"type": "max", "value": "2024-01-01"}], "min"),
    ("string", [{"type": "max_length", "value": 5}, {"type": "max", "value": 6}], "set twice"),
    ("number", [{"type": "min", "value": 1}, {"type": "min", "value": 2}], "set twice"),
])
def test_contradictory_validations_are_400s(api, url, type_name, validations, fragment):
    assert_error(create(api, url, name="X", type=type_name, validations=validations), 400, fragment)


def test_a_multi_value_takes_list_rules(api, url):
    body = create(api, url, name="Tags", type="string", multi_value=True,
                  validations=[{"type": "min_items", "value": 1}, {"type": "max_items", "value": 3}]).json()
    assert body["validations"][1] == {"type": "max_items", "value": 3}
    assert_error(create(api, url, name="T", type="string", multi_value=True,
                        validations=[{"type": "max_items", "value": 101}]), 400, "max_items")


# =========================================================================== default_value


@pytest.mark.parametrize("type_name,sent,stored", [
    ("string", "gold", "gold"),
    ("number", 5, 5),
    ("number", "42", 42),  # the SDK types default_value as a string
    ("number", "2.50", 2.5),
    ("boolean", "true", True),
    ("boolean", False, False),
    ("date", "2024-05-01", "2024-05-01"),
    ("datetime", "2024-05-01T10:00:00+05:30", "2024-05-01T04:30:00.000Z"),
    ("json", {"a": [1, 2]}, {"a": [1, 2]}),
    ("string", "", None),
    ("number", None, None),
])
def test_default_values(api, url, type_name, sent, stored):
    response = create(api, url, name="X", type=type_name, default_value=sent)
    assert response.status_code == 201, response.content
    assert response.json()["default_value"] == stored


@pytest.mark.parametrize("fields,fragments", [
    ({"type": "number", "default_value": "lots"}, ["default_value", "number"]),
    ({"type": "number", "default_value": True}, ["default_value", "number"]),
    ({"type": "boolean", "default_value": "yes"}, ["default_value", "true or false"]),
    ({"type": "date", "default_value": "01/05/2024"}, ["default_value", "date"]),
    ({"type": "string", "default_value": "toolong", "validations": [{"type": "max_length", "value": 3}]},
     ["default_value", "max_length"]),
    ({"type": "string", "default_value": "x", "validations": [{"type": "enum", "value": ["a"]}]},
     ["default_value", "enum"]),
    ({"type": "number", "default_value": 11, "validations": [{"type": "max", "value": 10}]},
     ["default_value", "at most 10"]),
    ({"type": "string", "multi_value": True, "default_value": ["a", "b", "c"],
      "validations": [{"type": "max_items", "value": 2}]}, ["default_value", "max_items"]),
    ({"type": "string", "default_value": ["a"]}, ["default_value", "not a list"]),
])
def test_an_invalid_default_value_is_a_400(api, url, fields, fragments):
    body = assert_error(create(api, url, name="X", **fields), 400, *fragments)
    assert body["code"] == "invalid_default_value"


# =========================================================================== getUserAttributeDefinitions


def test_list_is_paginated_pinned_first_by_pin_order_then_newest(api, url, define):
    plain = [define(name=f"Plain {n}")["slug"] for n in range(3)]
    late = define(name="Pinned late", pinned=True, pin_order=2)["slug"]
    early = define(name="Pinned early", pinned=True, pin_order=1)["slug"]
    body = listing(api, url)
    assert [i["slug"] for i in body["items"]] == [early, late, *reversed(plain)]
    assert body["page"] == {"type": "number", "current": 1, "size": 10, "item_total": 5, "has_next": False}
    page = listing(api, url, page_size=2, page_no=2)
    assert [i["slug"] for i in page["items"]] == [plain[2], plain[1]]
    assert page["page"] == {"type": "number", "current": 2, "size": 2, "item_total": 5, "has_next": True}
    assert listing(api, url, page_size=2, page_no=9)["items"] == []


def test_list_filters(api, url, define):
    tier = define(name="Loyalty Tier", slug="tier", type="string", pinned=True, pin_order=4)
    spend = define(name="Total spend", type="number", encrypted=True, customer_editable=True)
    locked = define(name="Birthday", type="date", is_locked=True)
    assert slugs(api, url, slug="tier") == ["tier"]
    assert slugs(api, url, type="number") == [spend["slug"]]
    assert slugs(api, url, type="text") == ["tier"]
    assert slugs(api, url, encrypted="true") == [spend["slug"]]
    assert set(slugs(api, url, encrypted="false")) == {"tier", locked["slug"]}
    assert slugs(api, url, customer_editable="true") == [spend["slug"]]
    assert slugs(api, url, pinned="true") == ["tier"]
    assert slugs(api, url, pin_order=4) == ["tier"]
    assert slugs(api, url, is_locked="True") == [locked["slug"]]
    assert slugs(api, url, name="TIER") == ["tier"]
    assert slugs(api, url, name="al s") == [spend["slug"]]
    assert slugs(api, url, name=".*") == []  # a plain fragment, not a regex
    assert set(slugs(api, url, excluding_ids=f"{tier['_id']}, {spend['_id']}")) == {locked["slug"]}


@pytest.mark.parametrize("params,fragment", [
    ({"pinned": "yes"}, "pinned"), ({"encrypted": "1"}, "encrypted"), ({"type": "colour"}, "colour"),
    ({"pin_order": "first"}, "pin_order"), ({"excluding_ids": "abc"}, "excluding_ids"),
    ({"page_size": "0"}, "page_size"), ({"page_no": "x"}, "page_no"),
    ({"slug": "a\x00b"}, "slug must not contain NUL"), ({"name": "\x00"}, "name must not contain NUL"),
])
def test_bad_list_filters_are_400s(api, url, params, fragment):
    assert_error(api.get(url(DEFINITIONS) + "?" + urlencode(params)), 400, fragment)


def test_list_shows_only_this_application(api, url, define, other_application):
    define(name="Mine")
    response = api.post(url(DEFINITIONS, application_id=other_application.id), {"name": "Theirs", "type": "number"},
                        format="json")
    assert response.status_code == 201
    assert slugs(api, url) == ["mine"]
    assert slugs(api, lambda s: url(s, application_id=other_application.id)) == ["theirs"]


# =========================================================================== getUserAttributeDefinitionById


def test_get_by_id(api, url, define):
    created = define(name="Tier", validations=[{"type": "max_length", "value": 9}])
    response = api.get(url(f"{DEFINITIONS}/{created['_id']}"))
    assert response.status_code == 200
    assert response.json() == created


def test_unknown_foreign_and_malformed_ids(api, url, other_application, make_client, foreign_application):
    assert_error(api.get(url(f"{DEFINITIONS}/{UNKNOWN_ID}")), 404, UNKNOWN_ID, code="attribute_definition_not_found")
    theirs = api.post(url(DEFINITIONS, application_id=other_application.id), {"name": "T", "type": "number"},
                      format="json").json()
    for method in ("get", "put", "delete"):
        response = getattr(api, method)(url(f"{DEFINITIONS}/{theirs['_id']}"), {}, format="json")
        assert_error(response, 404, theirs["_id"])
    assert_error(api.get(url(f"{DEFINITIONS}/not-an-id")), 400, "attribute_def_id")
    foreign = make_client(company_id=777)
    response = foreign.post(f"/service/platform/user/v1.0/company/777/application/{foreign_application.id}/"
                            f"{DEFINITIONS}", {"name": "F", "type": "string"}, format="json")
    assert response.status_code == 201
    assert_error(api.get(url(f"{DEFINITIONS}/{response.json()['_id']}")), 404)


# =========================================================================== updateUserAttributeDefinition


def test_update_sets_only_the_fields_sent_and_bumps_the_version(api, url, define):
    created = define(name="Tier", description="old", pinned=True, pin_order=2)
    body = updated(api, url, created["_id"], description="new", icon="star")
    assert body["description"] == "new" and body["icon"] == "star"
    assert body["name"] == "Tier" and body["pinned"] is True and body["pin_order"] == 2
    assert body["__v"] == 1 and body["created_at"] == created["created_at"]
    assert body["modified_at"] >= created["modified_at"]
    assert updated(api, url, created["_id"], slug="loyalty")["slug"] == "loyalty"
    assert updated(api, url, created["_id"], slug="LOYALTY")["slug"] == "LOYALTY"  # its own slug, new case


def test_update_refuses_a_taken_slug_and_bad_fields(api, url, define):
    define(name="Tier", slug="tier")
    other = define(name="Other")
    assert_error(update(api, url, other["_id"], slug="Tier"), 409, "slug")
    assert_error(update(api, url, other["_id"], name=""), 400, "name")
    assert_error(update(api, url, other["_id"], type="colour"), 400, "type")
    assert_error(update(api, url, other["_id"], validations=[{"type": "min", "value": "x"}]), 400, "min_length")
    assert AttributeDefinition.objects.get(id=other["_id"]).version == 0


def test_a_locked_definition_cannot_be_changed_or_deleted(api, url, define):
    locked = define(name="System", is_locked=True)
    for body in ({"description": "x"}, {"is_locked": False}, {}):
        assert_error(update(api, url, locked["_id"], **body), 409, "locked", code="attribute_definition_locked")
    assert_error(api.delete(url(f"{DEFINITIONS}/{locked['_id']}")), 409, "locked")
    assert AttributeDefinition.objects.get(id=locked["_id"]).version == 0
    # locking through the API works; unlocking is for the admin console
    other = define(name="Other")
    assert updated(api, url, other["_id"], is_locked=True)["is_locked"] is True
    assert_error(update(api, url, other["_id"], is_locked=False), 409, "locked")


def test_type_change_without_values(api, url, define):
    created = define(name="Code", type="string", validations=[{"type": "max_length", "value": 5}])
    assert_error(update(api, url, created["_id"], type="number"), 400, "validations", "max_length")
    body = updated(api, url, created["_id"], type="number", validations=[{"type": "max", "value": 9}])
    assert body["type"] == "number" and body["validations"] == [{"type": "max", "value": 9}]
    assert updated(api, url, created["_id"], type="boolean", validations=[])["type"] == "boolean"


def test_type_change_converts_every_value_in_one_go(api, url, define, create_customer):
    definition = define(name="Score", type="string", default_value="7")
    customers = [create_customer() for _ in range(3)]
    for person, value in zip(customers, ["1", "2.5", " 30 "]):
        set_value(api, url, definition["_id"], person["_id"], value)
    body = updated(api, url, definition["_id"], type="number")
    assert body["type"] == "number" and body["default_value"] == 7
    values = {a.customer_id: a.value for a in UserAttribute.objects.filter(definition_id=definition["_id"])}
    assert values == {customers[0]["_id"]: 1, customers[1]["_id"]: 2.5, customers[2]["_id"]: 30}
    rows = UserAttributeValue.objects.filter(definition_id=definition["_id"])
    assert sorted(r.number_value for r in rows) == [1.0, 2.5, 30.0]
    assert all(r.text_value is None and r.text_lower is None for r in rows)
    response = api.get(url(f"{DEFINITIONS}/{definition['_id']}/user/{customers[1]['_id']}"))
    assert response.json()["attribute"] == {"value": 2.5} and response.json()["__v"] == 1


def test_type_change_is_refused_when_a_value_does_not_convert(api, url, define, create_customer):
    definition = define(name="Score", type="string")
    good, bad = create_customer(), create_customer()
    set_value(api, url, definition["_id"], good["_id"], "12")
    set_value(api, url, definition["_id"], bad["_id"], "twelve")
    body = assert_error(update(api, url, definition["_id"], type="number"), 409, "score", "1 of 2",
                        bad["_id"], code="attribute_values_do_not_convert")
    assert body["meta"]["customer_ids"] == [bad["_id"]]
    assert "twelve" not in body["message"]  # values are never echoed
    stored = AttributeDefinition.objects.get(id=definition["_id"])
    assert stored.type == "string" and stored.version == 0
    assert sorted(UserAttribute.objects.values_list("value", flat=True)) == ["12", "twelve"]
    assert sorted(UserAttributeValue.objects.values_list("text_value", flat=True)) == ["12", "twelve"]


def test_a_conversion_must_also_pass_the_new_validations(api, url, define, customer):
    definition = define(name="Score", type="string")
    set_value(api, url, definition["_id"], customer["_id"], "50")
    assert_error(update(api, url, definition["_id"], type="number", validations=[{"type": "max", "value": 10}]),
                 409, "at most 10")


@pytest.mark.parametrize("old,new,value,converted", [
    ("number", "string", 2.5, "2.5"),
    ("boolean", "string", True, "true"),
    ("string", "boolean", "false", False),
    ("date", "datetime", "2024-05-01", "2024-05-01T00:00:00.000Z"),
    ("datetime", "date", "2024-05-01T00:00:00Z", "2024-05-01"),
    ("string", "date", "2024-05-01", "2024-05-01"),
    ("number", "json", 3, 3),
    ("json", "number", 4, 4),
    ("json", "string", {"a": 1}, '{"a":1}'),
])
def test_conversions(api, url, define, customer, old, new, value, converted):
    definition = define(name="X", type=old)
    set_value(api, url, definition["_id"], customer["_id"], value)
    updated(api, url, definition["_id"], type=new)
    assert UserAttribute.objects.get(definition_id=definition["_id"]).value == converted


@pytest.mark.parametrize("old,new,value", [
    ("number", "boolean", 1), ("boolean", "number", True), ("datetime", "date", "2024-05-01T10:00:00Z"),
    ("number", "date", 20240501), ("json", "number", {"a": 1}),
])
def test_conversions_without_a_faithful_equivalent_are_refused(api, url, define, customer, old, new, value):
    definition = define(name="X", type=old)
    set_value(api, url, definition["_id"], customer["_id"], value)
    assert_error(update(api, url, definition["_id"], type=new), 409, "do not convert")


def test_multi_value_changes(api, url, define, create_customer):
    definition = define(name="Tags", type="string")
    one, two = create_customer(), create_customer()
    set_value(api, url, definition["_id"], one["_id"], "vip")
    updated(api, url, definition["_id"], multi_value=True)
    assert UserAttribute.objects.get(customer_id=one["_id"]).value == ["vip"]
    set_value(api, url, definition["_id"], two["_id"], ["a", "b"])
    assert_error(update(api, url, definition["_id"], is_multi_value=False), 409, "list of 2 items")
    set_value(api, url, definition["_id"], two["_id"], ["b"])
    assert updated(api, url, definition["_id"], is_multi_value=False)["multi_value"] is False
    assert sorted(UserAttribute.objects.values_list("value", flat=True)) == ["b", "vip"]


def test_turning_encryption_on_and_off_rewrites_the_values(api, url, define, customer):
    definition = define(name="Nickname", type="string")
    set_value(api, url, definition["_id"], customer["_id"], "Ash")
    updated(api, url, definition["_id"], encrypted=True)
    stored = UserAttribute.objects.get(definition_id=definition["_id"])
    assert stored.value is None and stored.ciphertext and "Ash" not in stored.ciphertext
    row = UserAttributeValue.objects.get(definition_id=definition["_id"])
    assert row.text_value is None and row.text_lower is None and row.digest
    response = api.get(url(f"{DEFINITIONS}/{definition['_id']}/user/{customer['_id']}"))
    assert response.json()["attribute"] == {"value": "Ash"}
    updated(api, url, definition["_id"], encrypted=False)
    stored = UserAttribute.objects.get(definition_id=definition["_id"])
    assert stored.value == "Ash" and stored.ciphertext == ""
    assert UserAttributeValue.objects.get(definition_id=definition["_id"]).text_lower == "ash"


def test_a_default_that_no_longer_fits_must_be_replaced(api, url, define):
    definition = define(name="Level", type="string", default_value="high")
    assert_error(update(api, url, definition["_id"], type="number"), 400, "default_value")
    body = updated(api, url, definition["_id"], type="number", default_value=None)
    assert body["default_value"] is None
    assert_error(update(api, url, definition["_id"], default_value="x"), 400, "default_value")
    assert_error(update(api, url, definition["_id"], validations=[{"type": "max", "value": 1}], default_value=5),
                 400, "default_value", "at most 1")


# =========================================================================== deleteUserAttributeDefinitionById


def test_delete_removes_the_definition_and_its_values(api, url, define, create_customer):
    definition = define(name="Tier")
    keep = define(name="Keep")
    people = [create_customer() for _ in range(2)]
    for person in people:
        set_value(api, url, definition["_id"], person["_id"], "gold")
        set_value(api, url, keep["_id"], person["_id"], "x")
    response = api.delete(url(f"{DEFINITIONS}/{definition['_id']}"))
    assert response.status_code == 200, response.content
    assert isinstance(response.json()["success"], str) and response.json()["success"]
    assert not AttributeDefinition.objects.filter(id=definition["_id"]).exists()
    assert not UserAttribute.objects.filter(definition_id=definition["_id"]).exists()
    assert not UserAttributeValue.objects.filter(definition_id=definition["_id"]).exists()
    assert UserAttribute.objects.filter(definition_id=keep["_id"]).count() == 2
    assert UserAttributeValue.objects.filter(definition_id=keep["_id"]).count() == 2
    assert_error(api.get(url(f"{DEFINITIONS}/{definition['_id']}")), 404)
    assert_error(api.delete(url(f"{DEFINITIONS}/{definition['_id']}")), 404)


def test_delete_is_refused_while_something_uses_the_definition(api, url, define, monkeypatch):
    definition = define(name="Tier")
    monkeypatch.setattr(attribute_services, "IN_USE_CHECKS", [lambda d: [f"user group 3 'VIP' ({d.slug})"]])
    assert_error(api.delete(url(f"{DEFINITIONS}/{definition['_id']}")), 409, "user group 3 'VIP'",
                 code="attribute_definition_in_use")
    assert AttributeDefinition.objects.filter(id=definition["_id"]).exists()
    assert attribute_services.definition_in_use_by(AttributeDefinition.objects.get(id=definition["_id"])) != []


def test_nothing_uses_a_definition_yet():
    assert attribute_services.definition_in_use_by(AttributeDefinition(slug="x")) == []


# =========================================================================== scopes and companies


def test_reads_need_the_read_scope_and_writes_the_write_scope(api, url, make_client, define):
    definition = define(name="Tier")
    reader = make_client(scopes=[SCOPE_CUSTOMERS_READ])
    assert reader.get(url(DEFINITIONS)).status_code == 200
    assert reader.get(url(f"{DEFINITIONS}/{definition['_id']}")).status_code == 200
    assert_error(reader.post(url(DEFINITIONS), {"name": "X", "type": "string"}, format="json"), 403,
                 "application/customers/write")
    assert_error(reader.put(url(f"{DEFINITIONS}/{definition['_id']}"), {"name": "Y"}, format="json"), 403)
    assert_error(reader.delete(url(f"{DEFINITIONS}/{definition['_id']}")), 403)
    nobody = make_client(scopes=[SCOPE_SETTINGS_WRITE])
    assert_error(nobody.get(url(DEFINITIONS)), 403, "application/customers/read")
    assert AttributeDefinition.objects.count() == 1


def test_another_company_token_is_refused(url, make_client, define):
    foreign = make_client(company_id=777)
    assert_error(foreign.get(url(DEFINITIONS)), 403, "559")
    assert_error(foreign.post(url(DEFINITIONS), {"name": "X", "type": "string"}, format="json"), 403)


def test_no_token_is_401(client, url):
    response = client.get(url(DEFINITIONS))
    assert response.status_code == 401


def test_conversion_runs_in_batches_and_a_late_failure_undoes_the_early_ones(api, url, define, create_customer,
                                                                              monkeypatch):
    monkeypatch.setattr(attribute_services, "REWRITE_BATCH_SIZE", 2)
    definition = define(name="Score", type="string")
    people = [create_customer() for _ in range(5)]
    for index, person in enumerate(people):
        set_value(api, url, definition["_id"], person["_id"], str(index))
    last = UserAttribute.objects.order_by("-id").first()  # converted in the last batch
    set_value(api, url, definition["_id"], last.customer_id, "not a number")
    before = sorted(UserAttributeValue.objects.values_list("customer_id", "text_value"))
    assert_error(update(api, url, definition["_id"], type="number"), 409, "1 of 5")
    assert sorted(UserAttributeValue.objects.values_list("customer_id", "text_value")) == before
    assert UserAttribute.objects.filter(value__in=["0", "1", "2", "3", "4"]).count() == 4
    set_value(api, url, definition["_id"], last.customer_id, "9")
    updated(api, url, definition["_id"], type="number")
    assert sorted(UserAttributeValue.objects.values_list("number_value", flat=True)) == \
        sorted(float(v) for v in UserAttribute.objects.values_list("value", flat=True))
    assert UserAttributeValue.objects.filter(number_value__isnull=False).count() == 5
    assert set(UserAttribute.objects.values_list("version", flat=True)) == {1, 3}  # the last one: set 3 times
