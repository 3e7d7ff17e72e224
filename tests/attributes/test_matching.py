"""attributes.matching: the walk (newest customers first, per-customer probes, estimated total) gives the
same pages as the exact set, for filterUsersByAttributes and conditional groups alike.

The settings make the estimate's sample cover every customer (so the estimate is the exact count) and the
exact limit tiny (so the walk is taken); WALK_SLACK 0 and WALK_MARGIN 2 make the walk's bound small
enough for 300 customers.
"""

import pytest
from django.test import override_settings

from attributes import conditions, matching, services
from core.actors import Actor
from core.api.pagination import PageRequest

ACTOR = Actor.system("tests")
CUSTOMERS = 300


@pytest.fixture
def walking(monkeypatch):
    monkeypatch.setattr(matching, "WALK_SLACK", 0)
    monkeypatch.setattr(matching, "WALK_MARGIN", 2)
    with override_settings(ATTRIBUTE_FILTER_EXACT_TOTAL=5, ATTRIBUTE_FILTER_SAMPLE=1_000_000,
                           ATTRIBUTE_FILTER_ESTIMATE_SECONDS=0):
        yield


@pytest.fixture
def store(application, create_customer):
    """300 customers, oldest first: tier "gold" for every third, score = i % 10, early = true for i < 50."""
    define = lambda name, type_: services.create_definition(application, {"name": name, "type": type_}, ACTOR)  # noqa: E731
    d = {"tier": define("Tier", "string"), "score": define("Score", "number"), "early": define("Early", "boolean")}
    ids = []
    for i in range(CUSTOMERS):
        user_id = create_customer(first_name=f"c{i}", email=f"c{i}@example.com")["_id"]
        ids.append(user_id)
        services.set_value(application, d["tier"].id, user_id, "gold" if i % 3 == 0 else "silver", ACTOR)
        services.set_value(application, d["score"].id, user_id, i % 10, ACTOR)
        if i < 50:
            services.set_value(application, d["early"].id, user_id, True, ACTOR)
    return d, ids


def selection(application, d, raw, combination="and", **extra):
    parsed = conditions.parse_conditions(application, [{"definition_id": d[k].id, "type": op, "value": v}
                                                       for k, op, v in raw])
    return matching.Selection(tuple(parsed), combination, **extra)


def exact_page(application, chosen, page):
    with override_settings(ATTRIBUTE_FILTER_EXACT_TOTAL=10_000_000):
        customers, total = matching.matching_page(application, chosen, page)
    return [c.id for c in customers], total


def expected(ids, wanted, page):
    """The ids of the customers ``wanted(i)``, newest first, one page."""
    matches = [ids[i] for i in reversed(range(CUSTOMERS)) if wanted(i)]
    return matches[page.offset:page.offset + page.size], len(matches)


CASES = [
    ([("tier", "eq", "gold"), ("score", "eq", 3)], "and", lambda i: i % 30 == 3),
    ([("tier", "eq", "gold"), ("score", "gte", 8)], "or", lambda i: i % 3 == 0 or i % 10 >= 8),
    ([("score", "btw", [2, 4])], "and", lambda i: 2 <= i % 10 <= 4),
    ([("tier", "ne", "gold"), ("score", "lt", 5)], "and", lambda i: i % 3 != 0 and i % 10 < 5),
    ([("tier", "sw", "GO")], "and", lambda i: i % 3 == 0),
]


def test_the_walk_gives_the_pages_and_totals_of_the_exact_set(application, store, walking):
    d, ids = store
    for raw, combination, wanted in CASES:
        chosen = selection(application, d, raw, combination)
        for page in (PageRequest(1, 3), PageRequest(2, 4), PageRequest(1, 10)):
            want_ids, want_total = expected(ids, wanted, page)
            assert exact_page(application, chosen, page) == (want_ids, want_total), (raw, page)
            customers, total = matching.matching_page(application, chosen, page)
            assert ([c.id for c in customers], total) == (want_ids, want_total), (raw, page)
        page = PageRequest(1, 3)
        walked = matching._walk(application, chosen, page, CUSTOMERS, expected(ids, wanted, page)[1])
        assert walked is not None, f"{raw}: the walk should be the way taken for page 1"
        assert [c.id for c in walked] == expected(ids, wanted, page)[0]


def test_matches_among_the_oldest_customers_fall_back_to_the_set(application, store, walking):
    d, ids = store
    chosen = selection(application, d, [("early", "eq", True)])
    page = PageRequest(1, 5)
    assert matching._walk(application, chosen, page, CUSTOMERS, 50) is None  # 60 newest walked, none early
    customers, total = matching.matching_page(application, chosen, page)
    assert ([c.id for c in customers], total) == expected(ids, lambda i: i < 50, page)


def test_include_and_exclude_as_a_groups_whitelist_and_blacklist(application, store, walking):
    d, ids = store
    chosen = selection(application, d, [("tier", "eq", "gold")], include=(ids[1], ids[2]), exclude=(ids[297], ids[2]))
    page = PageRequest(1, 6)
    wanted = lambda i: (i % 3 == 0 or i == 1) and i not in (297, 2)  # noqa: E731
    customers, total = matching.matching_page(application, chosen, page)
    assert ([c.id for c in customers], total) == expected(ids, wanted, page)
    assert exact_page(application, chosen, page) == expected(ids, wanted, page)


def test_archived_customers_are_never_listed_nor_counted(application, store, walking, api, url):
    d, ids = store
    for i in (299, 297):
        response = api.put(url("customers/archive"), {"user_id": ids[i], "reason": "test"}, format="json")
        assert response.status_code == 200, response.content
    chosen = selection(application, d, [("score", "gte", 7)])
    page = PageRequest(1, 4)
    wanted = lambda i: i % 10 >= 7 and i not in (299, 297)  # noqa: E731
    customers, total = matching.matching_page(application, chosen, page)
    assert ([c.id for c in customers], total) == expected(ids, wanted, page)


def test_a_small_sample_gives_an_estimate_rounded_to_three_digits(application, store):
    d, _ = store
    chosen = selection(application, d, [("tier", "eq", "gold")])
    with override_settings(ATTRIBUTE_FILTER_SAMPLE=1_000_000, ATTRIBUTE_FILTER_ESTIMATE_SECONDS=0):
        assert matching.estimated_total(application, chosen, CUSTOMERS) == 100  # every block: exact
    assert matching._three_significant_digits(66_312.4) == 66_300
    assert matching._three_significant_digits(999.6) == 1_000
    assert matching._three_significant_digits(12_345_678) == 12_300_000
    assert matching._three_significant_digits(7) == 7


def test_filter_and_conditional_group_apis_take_the_walk(application, store, walking, api, url):
    d, ids = store
    body = {"query": {"type": "and", "page": 1, "limit": 3, "conditions": [
        {"definition_id": d["tier"].id, "type": "eq", "value": "gold"},
        {"definition_id": d["score"].id, "type": "gte", "value": 5}]}}
    answer = api.post(url("user_attribute/users"), body, format="json").json()
    want_ids, want_total = expected(ids, lambda i: i % 3 == 0 and i % 10 >= 5, PageRequest(1, 3))
    assert [u["_id"] for u in answer["items"]] == want_ids and answer["page"]["item_total"] == want_total
    group = api.post(url("user_group"), {"name": "Gold", "description": "gold tier", "conditions": [
        {"user_attribute_definition_id": d["tier"].id, "type": "eq", "value": "gold"}]}, format="json").json()
    listed = api.get(url(f"user_group/{group['_id']}/users"), {"page_size": 5}).json()
    want_ids, want_total = expected(ids, lambda i: i % 3 == 0, PageRequest(1, 5))
    assert [u["_id"] for u in listed["items"]] == want_ids and listed["page"]["item_total"] == want_total


def test_the_sampled_share_is_kept_for_a_while_and_scaled_to_the_live_customers(application, store):
    d, ids = store
    chosen = selection(application, d, [("score", "eq", 9)])
    with override_settings(ATTRIBUTE_FILTER_SAMPLE=1_000_000, ATTRIBUTE_FILTER_ESTIMATE_SECONDS=60):
        assert matching.estimated_total(application, chosen, CUSTOMERS) == 30
        services.set_value(application, d["score"].id, ids[0], 9, ACTOR)  # now 31 match ...
        assert matching.estimated_total(application, chosen, CUSTOMERS) == 30  # ... the kept share says 10 %
        assert matching.estimated_total(application, chosen, 2 * CUSTOMERS) == 60  # times the live customers
    with override_settings(ATTRIBUTE_FILTER_SAMPLE=1_000_000, ATTRIBUTE_FILTER_ESTIMATE_SECONDS=0):
        assert matching.estimated_total(application, chosen, CUSTOMERS) == 31
