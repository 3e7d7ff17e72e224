"""The Customers operations of the spec table, end to end through the HTTP API."""

import json
import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from users.models import AuditEvent, Customer, CustomerEmail, CustomerPhone
from tests.helpers import assert_error

ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
SEED_Q = '{"$or":[{"emails.email":"a@b.com"},{"phoneNumbers.phone":"a@b.com"}]}'


def listing(api, url, **params):
    response = api.get(url("customers/list") + ("?" + urlencode(params) if params else ""))
    assert response.status_code == 200, response.content
    return response.json()


def listed_ids(api, url, **params):
    return [item["_id"] for item in listing(api, url, **params)["items"]]


def search(api, url, q=None, query=()):
    params = ([("q", q)] if q is not None else []) + [("query", v) for v in query]
    response = api.get(url("customers/search") + ("?" + urlencode(params) if params else ""))
    assert response.status_code == 200, response.content
    return [u["_id"] for u in response.json()["users"]]


def events(customer_id, action=None):
    queryset = AuditEvent.objects.filter(customer_id=customer_id)
    if action:
        queryset = queryset.filter(action=action)
    return list(queryset.order_by("id"))


def assert_api_event(event, api, action, reason=""):
    assert event.action == action
    assert event.actor_type == "api_client"
    assert event.actor_id == api.record.client_id
    assert event.actor_name == api.record.name
    assert event.reason == reason


@pytest.fixture
def other_api_customer(api, url, other_application):
    """A customer of the other application of the same company (created through its own URL)."""
    response = api.post(url("customers", application_id=other_application.id),
                        {"phone_number": "9123456789", "email": "other@shop.in", "first_name": "Otto"}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["user"]


# =========================================================================== getCustomers


def test_empty_list_has_sdk_page_object(api, url):
    body = listing(api, url)
    assert body == {"items": [], "page": {"type": "number", "current": 1, "size": 10, "item_total": 0,
                                          "has_next": False}}


def test_list_is_newest_first(api, url, create_customer):
    ids = [create_customer()["_id"] for _ in range(4)]
    assert listed_ids(api, url) == list(reversed(ids))


def test_customer_shape_matches_the_sdk_user_schema(api, url, create_customer, application):
    created = create_customer(email="Shape@Example.com", first_name="Sha", last_name="Pe", meta={"tier": "gold"})
    item = listing(api, url)["items"][0]
    assert item == created
    assert OBJECT_ID.match(item["_id"]) and item["user_id"] == item["_id"]
    assert item["application_id"] == application.id
    for key in ("first_name", "last_name", "gender", "dob", "username", "profile_pic_url", "account_type",
                "external_id", "rr_id", "created_at", "updated_at", "status"):
        assert isinstance(item[key], str), key  # never null
    assert ISO_MS_Z.match(item["created_at"]) and ISO_MS_Z.match(item["updated_at"])
    assert item["active"] is True and item["archive"] is False and item["status"] == "active"
    assert item["meta"] == {"tier": "gold"}
    assert item["emails"] == [{"email": "shape@example.com", "active": True, "primary": True, "verified": False}]
    assert item["phone_numbers"] == [{"phone": created["phone_numbers"][0]["phone"], "country_code": 91,
                                      "active": True, "primary": True, "verified": False}]
    assert isinstance(item["phone_numbers"][0]["country_code"], int)
    assert "deleted_on" not in item and "restore_until" not in item


def test_pagination(api, url, create_customer):
    ids = list(reversed([create_customer()["_id"] for _ in range(12)]))  # newest first

    first = listing(api, url, page_size=5, page_no=1)
    assert [i["_id"] for i in first["items"]] == ids[:5]
    assert first["page"] == {"type": "number", "current": 1, "size": 5, "item_total": 12, "has_next": True}

    second = listing(api, url, page_size=5, page_no=2)
    assert [i["_id"] for i in second["items"]] == ids[5:10]
    assert second["page"]["has_next"] is True and second["page"]["current"] == 2

    last = listing(api, url, page_size=5, page_no=3)
    assert [i["_id"] for i in last["items"]] == ids[10:]
    assert last["page"] == {"type": "number", "current": 3, "size": 5, "item_total": 12, "has_next": False}

    beyond = listing(api, url, page_size=5, page_no=4)
    assert beyond["items"] == [] and beyond["page"]["has_next"] is False and beyond["page"]["item_total"] == 12


def test_default_page_size_is_10(api, url, create_customer):
    for _ in range(11):
        create_customer()
    body = listing(api, url)
    assert len(body["items"]) == 10
    assert body["page"]["size"] == 10 and body["page"]["has_next"] is True and body["page"]["item_total"] == 11


def test_exact_page_boundary_has_no_next(api, url, create_customer):
    for _ in range(4):
        create_customer()
    assert listing(api, url, page_size=4)["page"]["has_next"] is False
    assert listing(api, url, page_size=2, page_no=2)["page"]["has_next"] is False


def test_page_size_max_is_allowed(api, url, create_customer):
    create_customer()
    assert listing(api, url, page_size=100)["page"]["size"] == 100


@pytest.fixture
def people(create_customer):
    return {
        "asha": create_customer(phone_number="9876500001", email="asha.verma@example.com", first_name="Asha",
                                last_name="Verma"),
        "ravi": create_customer(phone_number="9123400002", email="ravi@shop.in", first_name="Ravi",
                                last_name="Kumar"),
        "anil": create_customer(phone_number="8000000003", first_name="Anil", last_name="Ashford"),
    }


def q_ids(api, url, q, **params):
    body = listing(api, url, q=q, **params)
    assert body["page"]["item_total"] == len(body["items"]) or len(body["items"]) == body["page"]["size"]
    return {item["_id"] for item in body["items"]}


def test_q_email_prefix(api, url, people):
    assert q_ids(api, url, "asha.verma@") == {people["asha"]["_id"]}
    assert q_ids(api, url, "ravi@shop.in") == {people["ravi"]["_id"]}
    assert q_ids(api, url, "RAVI@SHOP") == {people["ravi"]["_id"]}


def test_q_phone_prefix(api, url, people):
    assert q_ids(api, url, "98765") == {people["asha"]["_id"]}
    assert q_ids(api, url, "9") == {people["asha"]["_id"], people["ravi"]["_id"]}
    assert q_ids(api, url, "9123400002") == {people["ravi"]["_id"]}
    assert q_ids(api, url, "+91 91234 00002") == {people["ravi"]["_id"]}


def test_q_phone_prefix_with_country_code(api, url, people, create_customer):
    american = create_customer(phone_number="2025550123", country_code="1")
    assert q_ids(api, url, "+91 98765") == {people["asha"]["_id"]}
    assert q_ids(api, url, "+91-9") == {people["asha"]["_id"], people["ravi"]["_id"]}
    assert q_ids(api, url, "+91") == {people["asha"]["_id"], people["ravi"]["_id"], people["anil"]["_id"]}
    assert q_ids(api, url, "+1 202") == {american["_id"]}
    assert q_ids(api, url, "+1 (202) 555-0123") == {american["_id"]}
    assert q_ids(api, url, "+44 98765") == set()
    assert q_ids(api, url, "2025") == {american["_id"]}


def test_q_first_and_last_name(api, url, people):
    assert q_ids(api, url, "Ravi") == {people["ravi"]["_id"]}
    assert q_ids(api, url, "kum") == {people["ravi"]["_id"]}
    # "ash" starts Asha (first name, email) and Ashford (last name).
    assert q_ids(api, url, "ash") == {people["asha"]["_id"], people["anil"]["_id"]}
    assert q_ids(api, url, "Asha Ver") == {people["asha"]["_id"]}
    assert q_ids(api, url, "Asha Kumar") == set()


def test_q_without_match_is_empty(api, url, people):
    body = listing(api, url, q="zzz-nobody")
    assert body["items"] == [] and body["page"]["item_total"] == 0 and body["page"]["has_next"] is False


@pytest.mark.parametrize("q", ["%", "_", "%a%", "\\"])
def test_q_like_wildcards_are_literal(api, url, people, q):
    assert q_ids(api, url, q) == set()


def test_q_item_total_counts_matches_only(api, url, people):
    body = listing(api, url, q="9", page_size=1)
    assert len(body["items"]) == 1
    assert body["page"]["item_total"] == 2 and body["page"]["has_next"] is True


def test_q_seed_example_json_filter(api, url, people, create_customer):
    target = create_customer(email="a@b.com")
    assert q_ids(api, url, SEED_Q) == {target["_id"]}


def test_q_json_filter_by_email_or_phone(api, url, people):
    q = json.dumps({"$or": [{"emails.email": "ASHA.VERMA@example.com"}, {"phoneNumbers.phone": "9123400002"}]})
    assert q_ids(api, url, q) == {people["asha"]["_id"], people["ravi"]["_id"]}


def test_q_json_filter_is_exact_not_prefix(api, url, people):
    assert q_ids(api, url, json.dumps({"emails.email": "asha"})) == set()
    assert q_ids(api, url, json.dumps({"phoneNumbers.phone": "98765"})) == set()


def test_q_json_and_and_in(api, url, people):
    both = json.dumps({"$and": [{"first_name": "asha"}, {"last_name": "VERMA"}]})
    assert q_ids(api, url, both) == {people["asha"]["_id"]}
    mismatch = json.dumps({"$and": [{"first_name": "asha"}, {"last_name": "kumar"}]})
    assert q_ids(api, url, mismatch) == set()
    many = json.dumps({"_id": {"$in": [people["ravi"]["_id"], people["anil"]["_id"]]}})
    assert q_ids(api, url, many) == {people["ravi"]["_id"], people["anil"]["_id"]}


def test_archived_customers_are_hidden_unless_asked(api, url, create_customer):
    live = create_customer(email="live@example.com")
    gone = create_customer(email="gone@example.com")
    assert api.put(url("customers/archive"), {"user_id": gone["_id"]}, format="json").status_code == 200

    default = listing(api, url)
    assert [i["_id"] for i in default["items"]] == [live["_id"]] and default["page"]["item_total"] == 1
    assert listed_ids(api, url, archived="false") == [live["_id"]]

    archived = listing(api, url, archived="true")
    assert [i["_id"] for i in archived["items"]] == [gone["_id"]] and archived["page"]["item_total"] == 1
    item = archived["items"][0]
    assert item["archive"] is True and item["status"] == "archived"
    assert ISO_MS_Z.match(item["deleted_on"]) and ISO_MS_Z.match(item["restore_until"])

    everything = listing(api, url, archived="all")
    assert {i["_id"] for i in everything["items"]} == {live["_id"], gone["_id"]}
    assert everything["page"]["item_total"] == 2

    # A filter does not bring archived customers back either.
    assert q_ids(api, url, "gone@") == set()
    assert q_ids(api, url, "gone@", archived="true") == {gone["_id"]}


def test_blocked_customers_stay_listed_as_blocked(api, url, create_customer):
    user = create_customer()
    api.put(url("customers/activation"), {"user_id": [user["_id"]], "status": False, "reason": "fraud"},
            format="json")
    item = listing(api, url)["items"][0]
    assert item["_id"] == user["_id"] and item["active"] is False and item["status"] == "blocked"


# =========================================================================== searchUsers


def test_search_exact_email_and_phone(api, url, people):
    assert search(api, url, "ravi@shop.in") == [people["ravi"]["_id"]]
    assert search(api, url, "RAVI@Shop.IN") == [people["ravi"]["_id"]]
    assert search(api, url, "9876500001") == [people["asha"]["_id"]]
    assert search(api, url, "+91-98765-00001") == [people["asha"]["_id"]]


def test_search_is_exact_not_prefix(api, url, people):
    assert search(api, url, "ravi@shop") == []
    assert search(api, url, "98765") == []


def test_search_with_repeated_query(api, url, people):
    found = search(api, url, "ravi@shop.in", query=["9876500001", "8000000003", "nobody@example.com"])
    assert set(found) == {people["ravi"]["_id"], people["asha"]["_id"], people["anil"]["_id"]}
    found = search(api, url, query=["asha.verma@example.com"])
    assert found == [people["asha"]["_id"]]


def test_search_answer_shape(api, url, people):
    response = api.get(url("customers/search") + "?q=ravi@shop.in")
    body = response.json()
    assert list(body) == ["users"]
    assert body["users"][0] == people["ravi"]


def test_search_without_values_is_empty(api, url, people):
    assert search(api, url) == []


def test_search_skips_archived_customers(api, url, people):
    api.put(url("customers/archive"), {"user_id": people["ravi"]["_id"]}, format="json")
    assert search(api, url, "ravi@shop.in") == []


# =========================================================================== createUser


def test_create_with_phone_only(api, url, application):
    response = api.post(url("customers"), {"phone_number": "9876543210"}, format="json")
    assert response.status_code == 200, response.content
    user = response.json()["user"]
    assert user["phone_numbers"] == [{"phone": "9876543210", "country_code": 91, "active": True, "primary": True,
                                      "verified": False}]
    assert user["emails"] == []
    assert user["username"].startswith("9876543210_")
    assert user["first_name"] == "" and user["meta"] == {}
    customer = Customer.objects.get(id=user["_id"])
    assert customer.application_id == application.id
    assert CustomerPhone.objects.get(customer=customer).e164 == "+919876543210"


@pytest.mark.parametrize(
    "body,country_code,national",
    [
        ({"phone_number": "2025550123", "country_code": "1"}, 1, "2025550123"),
        ({"phone_number": "2025550123", "country_code": 1}, 1, "2025550123"),
        ({"phone_number": "+1 (202) 555-0123"}, 1, "2025550123"),
        ({"phone_number": "07400 123456", "country_code": "+44"}, 44, "7400123456"),
        ({"phone_number": "+91 98765-43210"}, 91, "9876543210"),
        ({"phone_number": "09876543210"}, 91, "9876543210"),
    ],
)
def test_create_phone_spellings(api, url, body, country_code, national):
    response = api.post(url("customers"), body, format="json")
    assert response.status_code == 200, response.content
    phone = response.json()["user"]["phone_numbers"][0]
    assert phone["country_code"] == country_code and phone["phone"] == national


def test_create_with_email_and_profile(api, url):
    body = {"phone_number": "9876543210", "email": " Asha.Verma@Example.COM ", "first_name": "Asha",
            "last_name": "Verma", "gender": "female", "external_id": "ext-1", "rr_id": "rr-1",
            "meta": {"source": "pos", "tags": ["vip"], "nested": {"n": 1}}}
    user = api.post(url("customers"), body, format="json").json()["user"]
    assert user["emails"] == [{"email": "asha.verma@example.com", "active": True, "primary": True,
                               "verified": False}]
    assert user["username"].startswith("asha.verma_")
    assert (user["first_name"], user["last_name"], user["gender"]) == ("Asha", "Verma", "female")
    assert (user["external_id"], user["rr_id"]) == ("ext-1", "rr-1")
    assert user["meta"] == {"source": "pos", "tags": ["vip"], "nested": {"n": 1}}
    assert Customer.objects.get(id=user["_id"]).meta == body["meta"]


def test_create_keeps_given_username(api, url):
    user = api.post(url("customers"), {"phone_number": "9876543210", "username": "asha01"}, format="json").json()
    assert user["user"]["username"] == "asha01"


def test_generated_usernames_differ(api, url):
    a = api.post(url("customers"), {"phone_number": "9876543210", "email": "same@one.in"}, format="json").json()
    b = api.post(url("customers"), {"phone_number": "9876543211", "email": "same@two.in"}, format="json").json()
    assert a["user"]["username"] != b["user"]["username"]


def test_create_records_audit_event(api, url):
    response = api.post(url("customers"), {"phone_number": "9876543210", "email": "a@b.com"}, format="json",
                        HTTP_X_REQUEST_ID="req-create-1")
    user = response.json()["user"]
    assert response["X-Request-ID"] == "req-create-1"
    [event] = events(user["_id"])
    assert_api_event(event, api, "customer.created")
    assert event.request_id == "req-create-1"
    assert event.data["email"] == "a@b.com" and event.data["phone"] == "+919876543210"


def test_create_duplicate_email_is_409(api, url, create_customer):
    create_customer(email="taken@example.com")
    response = api.post(url("customers"), {"phone_number": "9000000001", "email": "TAKEN@example.com"},
                        format="json")
    assert_error(response, 409, "taken@example.com", code="duplicate_contact")
    assert Customer.objects.count() == 1
    assert not CustomerPhone.objects.filter(phone="9000000001").exists()


def test_create_duplicate_phone_is_409_whatever_the_spelling(api, url, create_customer):
    create_customer(phone_number="9876543210")
    response = api.post(url("customers"), {"phone_number": "+91 98765 43210", "email": "new@example.com"},
                        format="json")
    assert_error(response, 409, "+919876543210", code="duplicate_contact")
    assert Customer.objects.count() == 1
    assert not CustomerEmail.objects.filter(email="new@example.com").exists()


def test_create_duplicate_username_is_409(api, url, create_customer):
    create_customer(username="Asha")
    response = api.post(url("customers"), {"phone_number": "9000000001", "username": "asha"}, format="json")
    assert_error(response, 409, "asha", code="duplicate_username")
    assert Customer.objects.count() == 1


def test_create_same_contacts_in_another_application_is_fine(api, url, create_customer, other_application):
    create_customer(phone_number="9876543210", email="shared@example.com", username="shared")
    response = api.post(url("customers", application_id=other_application.id),
                        {"phone_number": "9876543210", "email": "shared@example.com", "username": "shared"},
                        format="json")
    assert response.status_code == 200, response.content
    assert response.json()["user"]["application_id"] == other_application.id
    assert Customer.objects.count() == 2


def test_same_country_national_number_differs_by_country(api, url, create_customer):
    create_customer(phone_number="2025550123", country_code="1")
    response = api.post(url("customers"), {"phone_number": "2025550123", "country_code": "1"}, format="json")
    assert response.status_code == 409


# =========================================================================== updateUser


def test_update_profile_fields(api, url, create_customer):
    user = create_customer(first_name="Old", last_name="Name", email="keep@example.com")
    response = api.put(url(f"customers/{user['_id']}"),
                       {"first_name": "New", "gender": "male", "meta": {"a": 1}}, format="json")
    assert response.status_code == 200, response.content
    updated = response.json()["user"]
    assert updated["first_name"] == "New" and updated["gender"] == "male" and updated["meta"] == {"a": 1}
    assert updated["last_name"] == "Name"  # not sent: untouched
    assert updated["emails"] == user["emails"] and updated["phone_numbers"] == user["phone_numbers"]
    assert updated["__v"] == user["__v"] + 1
    assert updated["created_at"] == user["created_at"]
    assert Customer.objects.get(id=user["_id"]).first_name == "New"
    [event] = events(user["_id"], "customer.updated")
    assert_api_event(event, api, "customer.updated")
    assert event.data["changed"] == {"first_name": "New", "gender": "male", "meta": {"a": 1}}


def test_update_replaces_emails_and_phones(api, url, create_customer):
    user = create_customer(email="first@example.com")
    body = {
        "emails": [{"email": "one@example.com", "primary": False, "verified": True},
                   {"email": "Two@Example.com", "primary": True}],
        "phone_numbers": [{"phone": "9111111111", "country_code": "91", "primary": True},
                          {"phone": "2025550123", "country_code": 1, "primary": False}],
    }
    response = api.put(url(f"customers/{user['_id']}"), body, format="json")
    assert response.status_code == 200, response.content
    updated = response.json()["user"]
    assert updated["emails"] == [
        {"email": "two@example.com", "active": True, "primary": True, "verified": False},
        {"email": "one@example.com", "active": True, "primary": False, "verified": True},
    ]
    assert updated["phone_numbers"] == [
        {"phone": "9111111111", "country_code": 91, "active": True, "primary": True, "verified": False},
        {"phone": "2025550123", "country_code": 1, "active": True, "primary": False, "verified": False},
    ]
    # The old email and phone are gone and free for anybody.
    assert not CustomerEmail.objects.filter(email="first@example.com").exists()
    response = api.post(url("customers"), {"phone_number": user["phone_numbers"][0]["phone"],
                                           "email": "first@example.com"}, format="json")
    assert response.status_code == 200, response.content


def test_update_single_entry_becomes_primary(api, url, create_customer):
    user = create_customer()
    response = api.put(url(f"customers/{user['_id']}"), {"emails": [{"email": "solo@example.com"}]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["user"]["emails"][0]["primary"] is True


def test_update_with_empty_email_list_removes_emails(api, url, create_customer):
    user = create_customer(email="bye@example.com")
    response = api.put(url(f"customers/{user['_id']}"), {"emails": []}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["user"]["emails"] == []


def test_update_keeping_its_own_email_is_fine(api, url, create_customer):
    user = create_customer(email="mine@example.com")
    response = api.put(url(f"customers/{user['_id']}"),
                       {"emails": [{"email": "mine@example.com", "primary": True}]}, format="json")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    "body,fragment",
    [
        ({"emails": [{"email": "a@example.com"}, {"email": "b@example.com"}]}, "exactly one"),
        ({"emails": [{"email": "a@example.com", "primary": True}, {"email": "b@example.com", "primary": True}]},
         "exactly one"),
        ({"phone_numbers": [{"phone": "9111111111"}, {"phone": "9222222222"}]}, "exactly one"),
        ({"phone_numbers": [{"phone": "9111111111", "primary": True}, {"phone": "9222222222", "primary": True}]},
         "exactly one"),
        ({"emails": [{"email": "a@example.com", "primary": True}, {"email": "A@EXAMPLE.com"}]}, "twice"),
        ({"phone_numbers": [{"phone": "9111111111", "primary": True}, {"phone": "+919111111111"}]}, "twice"),
        ({"phone_numbers": []}, "at least one"),
    ],
)
def test_update_primary_rules_are_400_and_change_nothing(api, url, create_customer, body, fragment):
    user = create_customer(email="before@example.com", first_name="Before")
    response = api.put(url(f"customers/{user['_id']}"), {"first_name": "After", **body}, format="json")
    assert_error(response, 400, fragment)
    assert api.get(url(f"customers/{user['_id']}")).json()["user"] == user
    assert not events(user["_id"], "customer.updated")


def test_update_with_another_customers_email_or_phone_is_409(api, url, create_customer):
    owner = create_customer(email="owner@example.com", phone_number="9111111111")
    user = create_customer(email="user@example.com", first_name="Before")
    response = api.put(url(f"customers/{user['_id']}"),
                       {"first_name": "After", "emails": [{"email": "OWNER@example.com", "primary": True}]},
                       format="json")
    assert_error(response, 409, "owner@example.com", code="duplicate_contact")
    response = api.put(url(f"customers/{user['_id']}"),
                       {"first_name": "After", "phone_numbers": [{"phone": "+91 9111111111", "primary": True}]},
                       format="json")
    assert_error(response, 409, "+919111111111", code="duplicate_contact")
    assert api.get(url(f"customers/{user['_id']}")).json()["user"] == user
    assert api.get(url(f"customers/{owner['_id']}")).json()["user"] == owner


def test_update_unknown_customer_is_404(api, url):
    response = api.put(url("customers/0123456789abcdef01234567"), {"first_name": "X"}, format="json")
    assert_error(response, 404, "0123456789abcdef01234567", code="user_not_found")


def test_update_archived_customer_is_404(api, url, create_customer):
    user = create_customer()
    api.put(url("customers/archive"), {"user_id": user["_id"]}, format="json")
    response = api.put(url(f"customers/{user['_id']}"), {"first_name": "X"}, format="json")
    assert_error(response, 404, code="user_not_found")
    assert Customer.objects.get(id=user["_id"]).first_name == ""


# =========================================================================== blockOrUnblockUsers


def test_block_and_unblock(api, url, create_customer):
    a, b, c = create_customer(), create_customer(), create_customer()
    response = api.put(url("customers/activation"),
                       {"user_id": [a["_id"], b["_id"]], "status": False, "reason": "chargebacks"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"success": True}
    assert {c_.id: c_.active for c_ in Customer.objects.all()} == {a["_id"]: False, b["_id"]: False, c["_id"]: True}
    assert api.get(url(f"customers/{a['_id']}")).json()["user"]["status"] == "blocked"
    for user in (a, b):
        [event] = events(user["_id"], "customer.blocked")
        assert_api_event(event, api, "customer.blocked", reason="chargebacks")
    assert not events(c["_id"], "customer.blocked")

    response = api.put(url("customers/activation"), {"user_id": [a["_id"]], "status": True, "reason": "resolved"},
                       format="json")
    assert response.status_code == 200, response.content
    assert Customer.objects.get(id=a["_id"]).active is True
    assert Customer.objects.get(id=b["_id"]).active is False
    [event] = events(a["_id"], "customer.unblocked")
    assert_api_event(event, api, "customer.unblocked", reason="resolved")


def test_block_twice_and_duplicate_ids_are_harmless(api, url, create_customer):
    a = create_customer()
    body = {"user_id": [a["_id"], a["_id"]], "status": False, "reason": "x"}
    assert api.put(url("customers/activation"), body, format="json").status_code == 200
    assert api.put(url("customers/activation"), body, format="json").status_code == 200
    assert Customer.objects.get(id=a["_id"]).active is False
    assert Customer.objects.get(id=a["_id"]).version == 1


@pytest.mark.parametrize("body,fragment", [
    ({"status": False}, "reason"),
    ({"status": False, "reason": ""}, "reason"),
    ({"status": False, "reason": "   "}, "reason"),
    ({"reason": "x"}, "status"),
])
def test_block_needs_reason_and_status(api, url, create_customer, body, fragment):
    a = create_customer()
    response = api.put(url("customers/activation"), {"user_id": [a["_id"]], **body}, format="json")
    assert_error(response, 400, fragment)
    assert Customer.objects.get(id=a["_id"]).active is True


def test_block_with_unknown_ids_is_404_and_changes_nothing(api, url, create_customer):
    a, b = create_customer(), create_customer()
    unknown = ["0123456789abcdef01234567", "fedcba9876543210fedcba98"]
    response = api.put(url("customers/activation"),
                       {"user_id": [a["_id"], unknown[0], b["_id"], unknown[1]], "status": False, "reason": "x"},
                       format="json")
    body = assert_error(response, 404, *unknown, code="user_not_found")
    assert body["meta"]["unknown_ids"] == unknown
    assert a["_id"] not in body["message"] and b["_id"] not in body["message"]
    assert Customer.objects.filter(active=False).count() == 0
    assert not AuditEvent.objects.filter(action="customer.blocked").exists()


def test_block_archived_customer_is_404(api, url, create_customer):
    a, b = create_customer(), create_customer()
    api.put(url("customers/archive"), {"user_id": a["_id"]}, format="json")
    response = api.put(url("customers/activation"), {"user_id": [a["_id"], b["_id"]], "status": False,
                                                     "reason": "x"}, format="json")
    assert_error(response, 404, a["_id"])
    assert Customer.objects.get(id=b["_id"]).active is True


# =========================================================================== archiveUser


def test_archive_hides_customer_and_frees_contacts(api, url, create_customer):
    user = create_customer(phone_number="9876543210", email="leaving@example.com", username="leaver")
    response = api.put(url("customers/archive"), {"user_id": user["_id"], "reason": "asked to"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"success": True}
    assert listed_ids(api, url) == []
    customer = Customer.objects.get(id=user["_id"])
    assert customer.archived is True and customer.archived_at is not None
    window = customer.restore_until - customer.archived_at
    assert window == timedelta(days=7)
    [event] = events(user["_id"], "customer.archived")
    assert_api_event(event, api, "customer.archived", reason="asked to")

    # Email, phone and username are free for a new account.
    response = api.post(url("customers"), {"phone_number": "+919876543210", "email": "leaving@example.com",
                                           "username": "leaver"}, format="json")
    assert response.status_code == 200, response.content
    assert listed_ids(api, url) == [response.json()["user"]["_id"]]


def test_archive_without_reason(api, url, create_customer):
    user = create_customer()
    assert api.put(url("customers/archive"), {"user_id": user["_id"]}, format="json").status_code == 200
    [event] = events(user["_id"], "customer.archived")
    assert event.reason == ""


def test_archive_twice_is_409(api, url, create_customer):
    user = create_customer()
    api.put(url("customers/archive"), {"user_id": user["_id"]}, format="json")
    response = api.put(url("customers/archive"), {"user_id": user["_id"]}, format="json")
    assert_error(response, 409, "already archived")
    assert len(events(user["_id"], "customer.archived")) == 1


def test_archive_unknown_is_404(api, url):
    response = api.put(url("customers/archive"), {"user_id": "0123456789abcdef01234567"}, format="json")
    assert_error(response, 404, "0123456789abcdef01234567")


# =========================================================================== unDeleteUser


@pytest.fixture
def archived_user(api, url, create_customer):
    user = create_customer(phone_number="9876543210", email="back@example.com")
    assert api.put(url("customers/archive"), {"user_id": user["_id"]}, format="json").status_code == 200
    return user


def test_undelete_restores(api, url, archived_user):
    response = api.put(url("customers/undelete"),
                       {"user_id": archived_user["_id"], "reason": "came back", "reason_id": "r1"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"success": True}
    customer = Customer.objects.get(id=archived_user["_id"])
    assert customer.archived is False and customer.archived_at is None and customer.restore_until is None
    assert listed_ids(api, url) == [archived_user["_id"]]
    item = listing(api, url)["items"][0]
    assert item["status"] == "active" and item["emails"] == archived_user["emails"]
    [event] = events(archived_user["_id"], "customer.restored")
    assert_api_event(event, api, "customer.restored", reason="came back")
    assert event.data == {"reason_id": "r1"}
    # Its contacts are taken again.
    response = api.post(url("customers"), {"phone_number": "9000000001", "email": "back@example.com"},
                        format="json")
    assert response.status_code == 409
    assert search(api, url, "back@example.com") == [archived_user["_id"]]


def test_undelete_conflicts_when_email_was_taken(api, url, archived_user):
    newcomer = api.post(url("customers"), {"phone_number": "9000000001", "email": "back@example.com"},
                        format="json")
    assert newcomer.status_code == 200
    response = api.put(url("customers/undelete"), {"user_id": archived_user["_id"], "reason": "x"}, format="json")
    assert_error(response, 409, "back@example.com")
    assert Customer.objects.get(id=archived_user["_id"]).archived is True
    assert not events(archived_user["_id"], "customer.restored")


def test_undelete_conflicts_when_phone_was_taken(api, url, archived_user):
    newcomer = api.post(url("customers"), {"phone_number": "+91 98765 43210"}, format="json")
    assert newcomer.status_code == 200
    response = api.put(url("customers/undelete"), {"user_id": archived_user["_id"], "reason": "x"}, format="json")
    assert_error(response, 409, "+919876543210")
    assert Customer.objects.get(id=archived_user["_id"]).archived is True


def test_undelete_conflicts_when_username_was_taken(api, url, create_customer):
    user = create_customer(username="Meera")
    api.put(url("customers/archive"), {"user_id": user["_id"]}, format="json")
    assert api.post(url("customers"), {"phone_number": "9000000001", "username": "meera"},
                    format="json").status_code == 200
    response = api.put(url("customers/undelete"), {"user_id": user["_id"], "reason": "x"}, format="json")
    assert_error(response, 409, "meera", code="duplicate_username")
    assert Customer.objects.get(id=user["_id"]).archived is True


def test_contact_reused_by_update_blocks_restore(api, url, archived_user, create_customer):
    other = create_customer()
    response = api.put(url(f"customers/{other['_id']}"),
                       {"emails": [{"email": "back@example.com", "primary": True}]}, format="json")
    assert response.status_code == 200, response.content  # an archived customer's email is free
    response = api.put(url("customers/undelete"), {"user_id": archived_user["_id"], "reason": "x"}, format="json")
    assert_error(response, 409, "back@example.com")


def test_undelete_after_the_window_is_410(api, url, archived_user):
    Customer.objects.filter(id=archived_user["_id"]).update(restore_until=timezone.now() - timedelta(minutes=1))
    response = api.put(url("customers/undelete"), {"user_id": archived_user["_id"], "reason": "x"}, format="json")
    assert_error(response, 410, "no longer be restored", code="restore_window_passed")
    assert Customer.objects.get(id=archived_user["_id"]).archived is True


def test_undelete_of_live_customer_is_409(api, url, create_customer):
    user = create_customer()
    response = api.put(url("customers/undelete"), {"user_id": user["_id"], "reason": "x"}, format="json")
    assert_error(response, 409, "not archived")


def test_undelete_needs_reason(api, url, archived_user):
    response = api.put(url("customers/undelete"), {"user_id": archived_user["_id"]}, format="json")
    assert_error(response, 400, "reason")
    assert Customer.objects.get(id=archived_user["_id"]).archived is True


def test_undelete_unknown_is_404(api, url):
    response = api.put(url("customers/undelete"), {"user_id": "0123456789abcdef01234567", "reason": "x"},
                       format="json")
    assert_error(response, 404, "0123456789abcdef01234567")


# =========================================================================== tenant isolation


def test_listing_never_shows_other_application(api, url, create_customer, other_api_customer):
    mine = create_customer(email="mine@example.com")
    assert listed_ids(api, url) == [mine["_id"]]
    assert listed_ids(api, url, archived="all") == [mine["_id"]]
    assert listing(api, url)["page"]["item_total"] == 1
    assert q_ids(api, url, "other@") == set()
    assert q_ids(api, url, "Otto") == set()
    assert q_ids(api, url, json.dumps({"_id": other_api_customer["_id"]})) == set()
    assert search(api, url, "other@shop.in", query=["9123456789"]) == []


def test_other_application_customer_is_404_everywhere(api, url, other_api_customer):
    other_id = other_api_customer["_id"]
    assert_error(api.get(url(f"customers/{other_id}")), 404)
    assert_error(api.put(url(f"customers/{other_id}"), {"first_name": "Hacked"}, format="json"), 404)
    assert_error(api.put(url("customers/archive"), {"user_id": other_id}, format="json"), 404)
    assert_error(api.put(url("customers/activation"), {"user_id": [other_id], "status": False, "reason": "x"},
                         format="json"), 404, other_id)
    customer = Customer.objects.get(id=other_id)
    assert customer.first_name == "Otto" and customer.active is True and customer.archived is False
    assert [e.action for e in events(other_id)] == ["customer.created"]


def test_other_application_archived_customer_cannot_be_restored_here(api, url, other_application,
                                                                       other_api_customer):
    other_id = other_api_customer["_id"]
    assert api.put(url("customers/archive", application_id=other_application.id), {"user_id": other_id},
                   format="json").status_code == 200
    response = api.put(url("customers/undelete"), {"user_id": other_id, "reason": "x"}, format="json")
    assert_error(response, 404)
    assert Customer.objects.get(id=other_id).archived is True


def test_each_application_lists_its_own(api, url, create_customer, other_application, other_api_customer):
    create_customer()
    other = listing(api, lambda suffix: url(suffix, application_id=other_application.id))
    assert [i["_id"] for i in other["items"]] == [other_api_customer["_id"]]
    assert other["page"]["item_total"] == 1


# =========================================================================== service endpoints


def test_healthz(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_openapi_lists_the_customer_paths(client, db):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    base = "/service/platform/user/v1.0/company/{company_id}/application/{application_id}/"
    for suffix, method, operation_id in [
        ("customers/list", "get", "getCustomers"),
        ("customers/search", "get", "searchUsers"),
        ("customers", "post", "createUser"),
        ("customers/{user_id}", "put", "updateUser"),
        ("customers/activation", "put", "blockOrUnblockUsers"),
        ("customers/archive", "put", "archiveUser"),
        ("customers/undelete", "put", "unDeleteUser"),
    ]:
        assert base + suffix in paths, suffix
        assert paths[base + suffix][method]["operationId"] == operation_id
    assert "/service/panel/authentication/v1.0/company/{company_id}/oauth/token" in paths


def test_docs_page(client, db):
    response = client.get("/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"swagger" in response.content.lower()
    assert b"/openapi.json" in response.content


def test_unknown_endpoint_is_json_404(api):
    response = api.get("/service/platform/user/v1.0/nothing-here")
    assert_error(response, 404)
