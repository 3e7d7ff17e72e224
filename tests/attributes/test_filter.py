"""filterUsersByAttributes and the condition compiler it shares with customer groups."""

import pytest

from attributes import conditions, services
from core.actors import Actor
from core.tenancy.models import SCOPE_CUSTOMERS_READ, SCOPE_CUSTOMERS_WRITE
from tests.helpers import assert_error

ACTOR = Actor.system("tests")


@pytest.fixture
def define(application):
    def factory(name, type_, **extra):
        return services.create_definition(application, {"name": name, "type": type_, **extra}, ACTOR)
    return factory


@pytest.fixture
def shop(application, define, create_customer):
    """Five customers with a tier (string), points (number), vip (boolean), joined (date), tags (multi
    string), secret (encrypted string)."""
    d = {
        "tier": define("Tier", "string"),
        "points": define("Points", "number"),
        "vip": define("VIP", "boolean"),
        "joined": define("Joined", "date"),
        "tags": define("Tags", "string", multi_value=True),
        "secret": define("Secret", "string", encrypted=True),
        "seen": define("Seen", "datetime"),
    }
    rows = [
        ("asha", {"tier": "Gold", "points": 120, "vip": True, "joined": "2024-01-10", "tags": ["new", "app"],
                  "secret": "s1", "seen": "2025-03-01T10:00:00Z"}),
        ("bala", {"tier": "Silver", "points": 40, "vip": False, "joined": "2024-06-01", "tags": ["web"],
                  "secret": "s2", "seen": "2025-03-02T10:00:00Z"}),
        ("chitra", {"tier": "Golden Star", "points": 75.5, "joined": "2023-12-31", "tags": []}),
        ("dev", {"points": 0}),
        ("esha", {}),
    ]
    customers = {}
    for n, (name, values) in enumerate(rows):
        user = create_customer(first_name=name, email=f"{name}@example.com", phone_number=f"91234{n:05d}")
        customers[name] = user["_id"]
        for key, value in values.items():
            services.set_value(application, d[key].id, user["_id"], value, ACTOR)
    return d, customers


def run(api, url, shop, conds, combination="and", **query):
    d, _ = shop
    body = {"query": {"type": combination, "page": query.pop("page", 1), "limit": query.pop("limit", 50),
                      "conditions": [{"definition_id": d[k].id, "type": op, "value": v} for k, op, v in conds],
                      **query}}
    return api.post(url("user_attribute/users"), body, format="json")


def names(response, shop):
    assert response.status_code == 200, response.content
    by_id = {v: k for k, v in shop[1].items()}
    return sorted(by_id[item["_id"]] for item in response.json()["items"])


@pytest.mark.parametrize("conds,expected", [
    ([("tier", "eq", "Gold")], ["asha"]),
    ([("tier", "is", "Gold")], ["asha"]),
    ([("tier", "ne", "Gold")], ["bala", "chitra", "dev", "esha"]),  # without a value counts as "not Gold"
    ([("tier", "nis", "gold")], ["asha", "bala", "chitra", "dev", "esha"]),  # exact: case matters
    ([("tier", "cnt", "OLD")], ["asha", "chitra"]),
    ([("tier", "nct", "old")], ["bala", "dev", "esha"]),
    ([("tier", "sw", "gold")], ["asha", "chitra"]),
    ([("tier", "ew", "STAR")], ["chitra"]),
    ([("tier", "in", ["Gold", "Silver"])], ["asha", "bala"]),
    ([("tier", "in", "Gold,Silver")], ["asha", "bala"]),
    ([("tier", "nin", ["Gold", "Silver"])], ["chitra", "dev", "esha"]),
    ([("points", "gt", 40)], ["asha", "chitra"]),
    ([("points", "gte", 40)], ["asha", "bala", "chitra"]),
    ([("points", "lt", 40)], ["dev"]),
    ([("points", "lte", "40")], ["bala", "dev"]),  # text operands parse with the definition's type
    ([("points", "eq", 75.5)], ["chitra"]),
    ([("points", "btw", [40, 100])], ["bala", "chitra"]),
    ([("points", "btw", "0,40")], ["bala", "dev"]),
    ([("points", "in", [0, 120])], ["asha", "dev"]),
    ([("vip", "eq", True)], ["asha"]),
    ([("vip", "ne", True)], ["bala", "chitra", "dev", "esha"]),
    ([("joined", "gt", "2024-01-10")], ["bala"]),
    ([("joined", "lte", "2024-01-10")], ["asha", "chitra"]),
    ([("joined", "btw", ["2023-12-31", "2024-01-10"])], ["asha", "chitra"]),
    ([("seen", "lt", "2025-03-02T00:00:00Z")], ["asha"]),
    ([("seen", "btw", ["2025-03-01T10:00:00Z", "2025-03-02T10:00:00Z"])], ["asha", "bala"]),
    ([("tags", "eq", "web")], ["bala"]),
    ([("tags", "in", ["app", "web"])], ["asha", "bala"]),
    ([("tags", "nin", ["new"])], ["bala", "chitra", "dev", "esha"]),
    ([("secret", "eq", "s1")], ["asha"]),
    ([("secret", "in", ["s1", "s2"])], ["asha", "bala"]),
    ([("secret", "ne", "s1")], ["bala", "chitra", "dev", "esha"]),
])
def test_every_operator(api, url, shop, conds, expected):
    assert names(run(api, url, shop, conds), shop) == expected


def test_and_or(api, url, shop):
    both = [("points", "gte", 40), ("tier", "sw", "gold")]
    assert names(run(api, url, shop, both, "and"), shop) == ["asha", "chitra"]
    assert names(run(api, url, shop, [("points", "lt", 40), ("tier", "eq", "Silver")], "or"), shop) == ["bala", "dev"]
    assert names(run(api, url, shop, [("points", "lt", 40), ("tier", "ne", "Gold")], "AND"), shop) == ["dev"]


def test_no_conditions_lists_every_live_customer(api, url, shop):
    response = run(api, url, shop, [])
    assert names(response, shop) == ["asha", "bala", "chitra", "dev", "esha"]
    assert response.json()["page"] == {"type": "number", "current": 1, "size": 50, "item_total": 5,
                                       "has_next": False}


def test_paging_newest_first_with_total(api, url, shop):
    first = run(api, url, shop, [("points", "gte", 0)], limit=2, page=1).json()
    second = run(api, url, shop, [("points", "gte", 0)], limit=2, page=2).json()
    assert first["page"] == {"type": "number", "current": 1, "size": 2, "item_total": 4, "has_next": True}
    assert second["page"]["item_total"] == 4 and second["page"]["has_next"] is False
    ids = [i["_id"] for i in first["items"] + second["items"]]
    assert ids == [shop[1][n] for n in ("dev", "chitra", "bala", "asha")]
    past = run(api, url, shop, [("points", "gte", 0)], limit=2, page=9).json()
    assert past["items"] == [] and past["page"]["item_total"] == 4


def test_email_and_phone_narrow_exactly(api, url, shop):
    assert names(run(api, url, shop, [("points", "gte", 0)], email="BALA@example.com"), shop) == ["bala"]
    assert names(run(api, url, shop, [], phone="9123400003"), shop) == ["dev"]
    assert names(run(api, url, shop, [("points", "gt", 100)], email="bala@example.com"), shop) == []


def test_archived_customers_are_not_listed(api, url, shop):
    _, customers = shop
    response = api.put(url("customers/archive"), {"user_id": customers["asha"]}, format="json")
    assert response.status_code == 200, response.content
    assert names(run(api, url, shop, [("tier", "sw", "gold")]), shop) == ["chitra"]


def test_items_carry_the_chosen_attribute_values(api, url, shop):
    d, customers = shop
    response = run(api, url, shop, [("tier", "eq", "Gold")], definition_ids=[d["points"].id, d["secret"].id])
    item = response.json()["items"][0]
    assert item["_id"] == item["user_id"] == customers["asha"]
    assert isinstance(item["emails"], list) and item["is_encrypted"] is False
    assert item["phone_numbers"][0]["country_code"] == "91"  # UserPhoneNumbers: a string, unlike UserSchema
    values = {a["user_attribute_definition_id"]: a["attribute"]["value"] for a in item["attributes"]}
    assert values == {d["points"].id: 120, d["secret"].id: "s1"}
    for attribute in item["attributes"]:
        for key in ("_id", "name", "user_id", "application_id", "user_attribute_definition_id", "created_at",
                    "updated_at", "type", "updated_by"):
            assert isinstance(attribute[key], str), key
        assert isinstance(attribute["customer_overridden"], bool)
    everything = run(api, url, shop, [("tier", "eq", "Gold")]).json()["items"][0]["attributes"]
    assert len(everything) == 7
    assert run(api, url, shop, [("tier", "eq", "Gold")], definition_ids=[]).json()["items"][0]["attributes"] == []


@pytest.mark.parametrize("conds,fragment", [
    ([("tier", "gt", "a")], "operator gt does not apply to tier"),
    ([("secret", "cnt", "s")], "does not apply to secret (encrypted)"),
    ([("vip", "in", [True])], "does not apply to vip"),
    ([("points", "eq", "many")], "query.conditions[0]: the value for points must be a number"),
    ([("points", "btw", [10])], "btw needs exactly two values"),
    ([("points", "btw", [10, 5])], "smaller value first"),
    ([("points", "eq", [1, 2])], "not a list"),
    ([("tier", "in", [])], "needs 1 to"),
    ([("tier", "cnt", "")], "non-empty text"),
    ([("joined", "gt", "yesterday")], "must be a date"),
    ([("tier", "like", "x")], "query.conditions[0].type must be one of"),
])
def test_bad_conditions_are_400_naming_the_condition(api, url, shop, conds, fragment):
    response = run(api, url, shop, conds)
    assert_error(response, 400)
    assert fragment in response.json()["message"]


@pytest.mark.parametrize("body,fragment", [
    ([], "must be a JSON object"),
    ({}, "query is required"),
    ({"query": {"type": "and", "conditions": [], "email": "a\x00@example.com"}}, "query.email"),
    ({"query": {"type": "and", "conditions": [], "definition_ids": ["0123456789abcdef0123456X"]}},
     "query.definition_ids[0] must be an attribute definition id"),
    ({"query": {"type": "xor", "page": 1, "limit": 10, "conditions": []}}, "query.type must be"),
    ({"query": {"type": "and", "page": 1, "limit": 10}}, "query.conditions is required"),
    ({"query": {"type": "and", "page": 0, "limit": 10, "conditions": []}}, "query.page"),
    ({"query": {"type": "and", "page": 1, "limit": 100000, "conditions": []}}, "query.limit"),
    ({"query": {"type": "and", "page": 1, "limit": 10, "conditions": "x"}}, "must be a list"),
    ({"query": {"type": "and", "page": 1, "limit": 10, "conditions": [{"definition_id": "nope", "type": "eq",
                                                                      "value": 1}]}}, "24-hex id"),
    ({"query": {"type": "and", "page": 1, "limit": 10, "conditions": [
        {"definition_id": "0123456789abcdef01234567", "type": "eq", "value": 1}]}}, "no attribute definition"),
    ({"query": {"type": "and", "page": 1, "limit": 10, "conditions": [], "definition_ids": ["x"]}},
     "query.definition_ids"),
    ({"query": {"type": "and", "page": 1, "limit": 10, "conditions": [], "email": 5}}, "query.email"),
])
def test_bad_queries_are_400(api, url, shop, body, fragment):
    response = api.post(url("user_attribute/users"), body, format="json")
    assert_error(response, 400)
    assert fragment in response.json()["message"]


def test_a_definition_of_another_application_is_unknown(api, url, shop, other_application):
    foreign = services.create_definition(other_application, {"name": "Tier", "type": "string"}, ACTOR)
    response = api.post(url("user_attribute/users"), {"query": {"type": "and", "page": 1, "limit": 10, "conditions": [
        {"definition_id": foreign.id, "type": "eq", "value": "Gold"}]}}, format="json")
    assert_error(response, 400)
    assert "no attribute definition" in response.json()["message"]


def test_needs_the_read_scope_only(make_client, url, shop):
    body = {"query": {"type": "and", "page": 1, "limit": 10, "conditions": []}}
    assert make_client(scopes=[SCOPE_CUSTOMERS_READ]).post(url("user_attribute/users"), body,
                                                           format="json").status_code == 200
    assert_error(make_client(scopes=[SCOPE_CUSTOMERS_WRITE]).post(url("user_attribute/users"), body,
                                                                  format="json"), 403)


def test_group_style_conditions_parse_text_values(application, shop):
    d, _ = shop
    parsed = conditions.parse_conditions(application, [
        {"user_attribute_definition_id": d["points"].id, "type": "btw", "value": "10, 100"},
        {"user_attribute_definition_id": d["tags"].id, "type": "in", "value": '["app", "web"]'},
        {"user_attribute_definition_id": d["vip"].id, "type": "eq", "value": "true"},
    ], definition_key="user_attribute_definition_id")
    assert [c.operand for c in parsed] == [(10, 100), ("app", "web"), True]
