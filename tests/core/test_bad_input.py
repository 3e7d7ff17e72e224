"""Whatever a client sends, the answer is a 4xx JSON error naming the problem, and nothing is half-written."""

import json
from urllib.parse import quote, urlencode

import pytest

from users.models import AuditEvent, Customer, CustomerEmail, CustomerPhone
from tests.helpers import assert_client_error, assert_error

UNKNOWN_ID = "0123456789abcdef01234567"


def snapshot():
    """Everything the Customers operations write, in a comparable form."""
    customers = sorted(
        Customer.objects.values_list("id", "application_id", "first_name", "last_name", "gender", "username",
                                     "meta", "active", "archived", "version")
    )
    emails = sorted(CustomerEmail.objects.values_list("customer_id", "email", "primary", "is_live"))
    phones = sorted(CustomerPhone.objects.values_list("customer_id", "e164", "primary", "is_live"))
    return customers, emails, phones, AuditEvent.objects.count()


@pytest.fixture
def two_customers(create_customer):
    return (create_customer(phone_number="9876500001", email="one@example.com", first_name="One"),
            create_customer(phone_number="9876500002", email="two@example.com", first_name="Two"))


def send(api, method, path, raw, content_type="application/json"):
    return getattr(api, method)(path, raw, content_type=content_type)


# =========================================================================== bodies that are not JSON objects


WRITE_ENDPOINTS = [
    ("post", "customers"),
    ("put", f"customers/{UNKNOWN_ID}"),
    ("put", "customers/activation"),
    ("put", "customers/archive"),
    ("put", "customers/undelete"),
]


@pytest.mark.parametrize("method,suffix", WRITE_ENDPOINTS)
@pytest.mark.parametrize("raw", ['{"phone_number": ', "{'single': 'quotes'}", "not json at all", '{"a": NaN}',
                                 "\ufeff{]"])
def test_malformed_json_is_400(api, url, two_customers, method, suffix, raw):
    before = snapshot()
    response = send(api, method, url(suffix), raw)
    assert_error(response, 400, "JSON parse error", code="parse_error")
    assert snapshot() == before


def test_invalid_utf8_body_is_400(api, url):
    response = send(api, "post", url("customers"), b'{"phone_number": "\xff\xfe"}')
    assert_error(response, 400, "JSON parse error")
    assert not Customer.objects.exists()


def test_deeply_nested_body_is_400_not_500(api, url):
    raw = "[" * 100_000 + "]" * 100_000
    response = send(api, "post", url("customers"), raw)
    assert_error(response, 400, "nested too deeply")
    raw = '{"phone_number": "9876543210", "meta": ' + '{"a":' * 5000 + "1" + "}" * 5000 + "}"
    assert_error(send(api, "post", url("customers"), raw), 400, "nested")
    assert not Customer.objects.exists()


@pytest.mark.parametrize("method,suffix", WRITE_ENDPOINTS)
@pytest.mark.parametrize("raw", ["[]", '["9876543210"]', '"9876543210"', "42", "true"])
def test_body_not_an_object_is_400(api, url, two_customers, method, suffix, raw):
    before = snapshot()
    response = send(api, method, url(suffix), raw)
    assert_error(response, 400, "must be a JSON object", code="validation_error")
    assert snapshot() == before


@pytest.mark.parametrize("method,suffix", WRITE_ENDPOINTS)
def test_null_body_is_400(api, url, two_customers, method, suffix):
    before = snapshot()
    response = send(api, method, url(suffix), "null")
    assert_error(response, 400, "must be a JSON object")
    assert snapshot() == before


@pytest.mark.parametrize("method,suffix,fragment", [
    ("post", "customers", "phone_number"),
    ("put", "customers/activation", "user_id"),
    ("put", "customers/archive", "user_id"),
    ("put", "customers/undelete", "user_id"),
])
def test_empty_body_is_400_naming_the_required_field(api, url, two_customers, method, suffix, fragment):
    before = snapshot()
    response = send(api, method, url(suffix), "")
    assert_error(response, 400, fragment, "required")
    assert snapshot() == before


def test_wrong_content_type_is_415(api, url):
    response = send(api, "post", url("customers"), "phone_number=9876543210",
                    content_type="application/x-www-form-urlencoded")
    assert_error(response, 415, "unsupported media type")
    response = send(api, "post", url("customers"), '{"phone_number": "9876543210"}', content_type="text/plain")
    assert_error(response, 415, "text/plain")
    assert not Customer.objects.exists()


# =========================================================================== createUser field checks


@pytest.mark.parametrize(
    "body,fragments",
    [
        ({}, ["phone_number", "required"]),
        ({"email": "a@b.com"}, ["phone_number", "required"]),
        ({"phone_number": 9876543210}, ["phone_number", "must be a string"]),
        ({"phone_number": None}, ["phone_number", "null"]),
        ({"phone_number": ""}, ["phone_number", "blank"]),
        ({"phone_number": ["9876543210"]}, ["phone_number", "must be a string"]),
        ({"phone_number": "12345"}, ["phone_number", "not a valid phone number"]),
        ({"phone_number": "hello"}, ["phone_number", "not a phone number"]),
        ({"phone_number": "9" * 31}, ["phone_number", "no more than 30"]),
        ({"phone_number": "9" * 25}, ["phone_number"]),
        ({"phone_number": "9876543210", "country_code": "abc"}, ["country_code"]),
        ({"phone_number": "9876543210", "country_code": "+"}, ["country_code"]),
        ({"phone_number": "9876543210", "country_code": 1.5}, ["country_code"]),
        ({"phone_number": "9876543210", "country_code": True}, ["country_code"]),
        ({"phone_number": "9876543210", "country_code": "999"}, ["999", "not a known country calling code"]),
        ({"phone_number": "9876543210", "country_code": "0"}, ["not a known country calling code"]),
        ({"phone_number": "9876543210", "country_code": "1"}, ["not a valid phone number", "1"]),
        ({"phone_number": "9876543210", "email": "not-an-email"}, ["email", "not a valid email"]),
        ({"phone_number": "9876543210", "email": "a@b"}, ["email", "not a valid email"]),
        ({"phone_number": "9876543210", "email": "two@@example.com"}, ["email"]),
        ({"phone_number": "9876543210", "email": 42}, ["email", "must be a string"]),
        ({"phone_number": "9876543210", "email": "a" * 250 + "@x.com"}, ["email", "no more than 254"]),
        ({"phone_number": "9876543210", "email": "a@" + "b" * 64 + ".com"}, ["email", "not a valid email"]),
        ({"phone_number": "9876543210", "first_name": "x" * 101}, ["first_name", "no more than 100"]),
        ({"phone_number": "9876543210", "last_name": "x" * 101}, ["last_name", "no more than 100"]),
        ({"phone_number": "9876543210", "gender": "x" * 31}, ["gender", "no more than 30"]),
        ({"phone_number": "9876543210", "username": "x" * 151}, ["username", "no more than 150"]),
        ({"phone_number": "9876543210", "external_id": "x" * 101}, ["external_id", "no more than 100"]),
        ({"phone_number": "9876543210", "first_name": 7}, ["first_name", "must be a string"]),
        ({"phone_number": "9876543210", "first_name": {"a": 1}}, ["first_name", "must be a string"]),
        ({"phone_number": "9876543210", "first_name": "nul\u0000byte"}, ["first_name", "null characters"]),
        ({"phone_number": "9876543210", "first_name": "\ud800"}, ["first_name", "surrogate"]),
        ({"phone_number": "9876543210", "meta": "text"}, ["meta", "json object"]),
        ({"phone_number": "9876543210", "meta": [1, 2]}, ["meta", "json object"]),
        ({"phone_number": "9876543210", "meta": {"blob": "x" * 20000}}, ["meta", "at most 16384 bytes"]),
        ({"phone_number": "9876543210", "meta": {"a": "nul\u0000"}}, ["meta", "NUL"]),
        ({"phone_number": "9876543210", "meta": {"nul\u0000key": 1}}, ["meta", "NUL"]),
        ({"phone_number": "9876543210", "meta": {"a": ["\udc00"]}}, ["meta", "surrogate"]),
    ],
)
def test_create_rejects_bad_fields(api, url, two_customers, body, fragments):
    before = snapshot()
    # json.dumps escapes lone surrogates as \udXXX, as a JavaScript client would send them.
    response = api.post(url("customers"), json.dumps(body), content_type="application/json")
    assert_error(response, 400, *fragments)
    assert snapshot() == before


def test_create_accepts_moderately_nested_meta(api, url):
    meta = {"a": {"b": {"c": [1, {"d": "e"}]}}}
    response = api.post(url("customers"), {"phone_number": "9876543210", "meta": meta}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["user"]["meta"] == meta


def test_create_rejects_meta_nested_too_deeply(api, url):
    meta = current = {}
    for _ in range(40):
        current["a"] = {}
        current = current["a"]
    response = api.post(url("customers"), {"phone_number": "9876543210", "meta": meta}, format="json")
    assert_error(response, 400, "meta", "nested")
    assert not Customer.objects.exists()


def test_huge_body_is_4xx(api, url):
    body = {"phone_number": "9876543210", "first_name": "x" * 3_000_000}
    response = api.post(url("customers"), body, format="json")
    assert_client_error(response)
    assert not Customer.objects.exists()


def test_error_shape_lists_field_errors(api, url):
    response = api.post(url("customers"), {"phone_number": 1, "first_name": 2}, format="json")
    body = assert_error(response, 400, "phone_number", "first_name", code="validation_error")
    assert body["success"] is False
    assert set(body["meta"]["errors"]) == {"phone_number", "first_name"}
    assert body["request_id"] == response["X-Request-ID"]


# =========================================================================== updateUser


@pytest.mark.parametrize(
    "body,fragments",
    [
        ({"first_name": 5}, ["first_name", "must be a string"]),
        ({"first_name": "x" * 101}, ["first_name", "no more than 100"]),
        ({"meta": "x"}, ["meta", "json object"]),
        ({"emails": "a@b.com"}, ["emails", "list"]),
        ({"emails": {"email": "a@b.com"}}, ["emails", "list"]),
        ({"emails": ["a@b.com"]}, ["emails[0]", "dictionary"]),
        ({"emails": [{"primary": True}]}, ["emails[0].email", "required"]),
        ({"emails": [{"email": "bad-address", "primary": True}]}, ["emails[0].email", "not a valid email"]),
        ({"emails": [{"email": "ok@example.com", "primary": "yes"}]}, ["emails[0].primary", "true or false"]),
        ({"emails": [{"email": "ok@example.com", "primary": True},
                     {"email": "x" * 300 + "@example.com"}]}, ["emails[1].email", "no more than 254"]),
        ({"emails": [{"email": f"e{i}@example.com", "primary": i == 0} for i in range(21)]},
         ["emails", "no more than 20"]),
        ({"phone_numbers": "9876543210"}, ["phone_numbers", "list"]),
        ({"phone_numbers": [{"phone": 9876543210, "primary": True}]}, ["phone_numbers[0].phone", "must be a string"]),
        ({"phone_numbers": [{"phone": "123", "primary": True}]}, ["phone_numbers[0].phone", "not a valid phone"]),
        ({"phone_numbers": [{"phone": "9876543210", "country_code": "x1", "primary": True}]},
         ["phone_numbers[0].country_code"]),
        ({"phone_numbers": [{"phone": "9876543210", "verified": 1, "primary": True}]},
         ["phone_numbers[0].verified", "true or false"]),
        ({"phone_numbers": [{"phone": "9111111111", "primary": True}, {"phone": "bogus"}]},
         ["phone_numbers[1].phone"]),
    ],
)
def test_update_rejects_bad_fields_and_changes_nothing(api, url, two_customers, body, fragments):
    user = two_customers[0]
    before = snapshot()
    response = api.put(url(f"customers/{user['_id']}"), {"first_name": "Changed", **body}, format="json")
    assert_error(response, 400, *fragments)
    assert snapshot() == before


def test_failed_update_of_contacts_keeps_old_contacts(api, url, two_customers):
    one, two = two_customers
    before = snapshot()
    # Valid new emails, but the phone list collides with the other customer: all or nothing.
    body = {
        "first_name": "Changed",
        "emails": [{"email": "fresh@example.com", "primary": True}],
        "phone_numbers": [{"phone": "9876500002", "primary": True}],
    }
    response = api.put(url(f"customers/{one['_id']}"), body, format="json")
    assert_error(response, 409, "+919876500002")
    assert snapshot() == before
    assert not CustomerEmail.objects.filter(email="fresh@example.com").exists()


@pytest.mark.parametrize("user_id,status", [
    ("not-an-id", 400), ("0123456789ABCDEF01234567", 400), ("0123456789abcdef0123456", 400),
    ("0123456789abcdef012345678", 400), ("g123456789abcdef01234567", 400), (UNKNOWN_ID, 404),
])
def test_update_with_bad_or_unknown_path_id(api, url, two_customers, user_id, status):
    before = snapshot()
    response = api.put(url(f"customers/{quote(user_id)}"), {"first_name": "X"}, format="json")
    assert_error(response, status, user_id)
    assert snapshot() == before


def test_path_id_with_odd_characters_is_4xx(api, url, two_customers):
    for raw in ("%00", "%20", "%E2%98%83", "a" * 500, "..%2F..%2Fetc"):
        response = api.put(url("customers/") + raw, {"first_name": "X"}, format="json")
        assert_client_error(response)
        response = api.get(url("customers/") + raw)
        assert_client_error(response)


# =========================================================================== blockOrUnblockUsers


@pytest.mark.parametrize(
    "body,fragments",
    [
        ({"user_id": "USERS", "status": False, "reason": "x"}, ["user_id", "list"]),
        ({"user_id": "0123456789abcdef01234567", "status": False, "reason": "x"}, ["user_id", "list"]),
        ({"user_id": [], "status": False, "reason": "x"}, ["user_id", "empty"]),
        ({"user_id": [12], "status": False, "reason": "x"}, ["user_id", "must be a string"]),
        ({"user_id": ["abc"], "status": False, "reason": "x"}, ["user_id", "24-character"]),
        ({"user_id": "{ids}", "status": "yes", "reason": "x"}, ["status", "true or false"]),
        ({"user_id": "{ids}", "status": "false", "reason": "x"}, ["status", "true or false"]),
        ({"user_id": "{ids}", "status": 0, "reason": "x"}, ["status", "true or false"]),
        ({"user_id": "{ids}", "status": None, "reason": "x"}, ["status", "null"]),
        ({"user_id": "{ids}", "reason": "x"}, ["status", "required"]),
        ({"user_id": "{ids}", "status": False}, ["reason", "required"]),
        ({"user_id": "{ids}", "status": False, "reason": ""}, ["reason", "blank"]),
        ({"user_id": "{ids}", "status": False, "reason": 5}, ["reason", "must be a string"]),
        ({"user_id": "{ids}", "status": False, "reason": "x" * 1001}, ["reason", "no more than 1000"]),
        ({"status": False, "reason": "x"}, ["user_id", "required"]),
    ],
)
def test_block_rejects_bad_bodies_and_changes_nothing(api, url, two_customers, body, fragments):
    if body.get("user_id") == "{ids}":
        body = {**body, "user_id": [u["_id"] for u in two_customers]}
    before = snapshot()
    response = api.put(url("customers/activation"), body, format="json")
    assert_error(response, 400, *fragments)
    assert snapshot() == before


def test_block_with_one_malformed_id_among_good_ones_changes_nothing(api, url, two_customers):
    before = snapshot()
    ids = [two_customers[0]["_id"], "nope", two_customers[1]["_id"]]
    response = api.put(url("customers/activation"), {"user_id": ids, "status": False, "reason": "x"}, format="json")
    body = assert_error(response, 400, "user_id")
    assert "1" in json.dumps(body["meta"]["errors"])  # the bad index is pointed at
    assert snapshot() == before


def test_block_with_unknown_id_among_good_ones_changes_nothing(api, url, two_customers):
    before = snapshot()
    ids = [two_customers[0]["_id"], UNKNOWN_ID, two_customers[1]["_id"]]
    response = api.put(url("customers/activation"), {"user_id": ids, "status": False, "reason": "x"}, format="json")
    assert_error(response, 404, UNKNOWN_ID)
    assert snapshot() == before


def test_block_with_too_many_ids_is_400(api, url, two_customers):
    ids = [f"{i:024x}" for i in range(501)]
    response = api.put(url("customers/activation"), {"user_id": ids, "status": False, "reason": "x"}, format="json")
    assert_error(response, 400, "user_id", "no more than 500")


# =========================================================================== archive / undelete


@pytest.mark.parametrize("suffix,extra", [("customers/archive", {}), ("customers/undelete", {"reason": "x"})])
@pytest.mark.parametrize(
    "user_id,status,fragments",
    [
        (None, 400, ["user_id", "required"]),
        (123, 400, ["user_id", "must be a string"]),
        (["0123456789abcdef01234567"], 400, ["user_id", "must be a string"]),
        ("xyz", 400, ["user_id", "24-character"]),
        ("", 400, ["user_id"]),
        (UNKNOWN_ID, 404, [UNKNOWN_ID]),
    ],
)
def test_archive_and_undelete_reject_bad_ids(api, url, two_customers, suffix, extra, user_id, status, fragments):
    body = dict(extra)
    if user_id is not None:
        body["user_id"] = user_id
    before = snapshot()
    response = api.put(url(suffix), body, format="json")
    assert_error(response, status, *fragments)
    assert snapshot() == before


def test_undelete_rejects_bad_reason(api, url, two_customers):
    user = two_customers[0]
    api.put(url("customers/archive"), {"user_id": user["_id"]}, format="json")
    before = snapshot()
    for reason, fragment in [(None, "required"), ("", "blank"), (12, "must be a string"), ("x" * 1001, "1000")]:
        body = {"user_id": user["_id"]} if reason is None else {"user_id": user["_id"], "reason": reason}
        response = api.put(url("customers/undelete"), body, format="json")
        assert_error(response, 400, "reason", fragment)
    assert snapshot() == before


def test_archive_reason_too_long(api, url, two_customers):
    before = snapshot()
    response = api.put(url("customers/archive"), {"user_id": two_customers[0]["_id"], "reason": "r" * 1001},
                       format="json")
    assert_error(response, 400, "reason")
    assert snapshot() == before


# =========================================================================== query parameters


def get(api, url, suffix, **params):
    return api.get(url(suffix) + "?" + urlencode(params))


@pytest.mark.parametrize(
    "params,fragments",
    [
        ({"page_size": 101}, ["page_size", "at most 100"]),
        ({"page_size": 100000}, ["page_size", "at most 100"]),
        ({"page_size": 0}, ["page_size", "1 or more"]),
        ({"page_size": -5}, ["page_size", "1 or more"]),
        ({"page_size": "ten"}, ["page_size", "whole number"]),
        ({"page_size": "1.5"}, ["page_size", "whole number"]),
        ({"page_no": 0}, ["page_no", "1 or more"]),
        ({"page_no": -1}, ["page_no", "1 or more"]),
        ({"page_no": "abc"}, ["page_no", "whole number", "abc"]),
        ({"page_no": "1e3"}, ["page_no", "whole number"]),
        ({"page_no": "9" * 5000}, ["page_no"]),
        ({"page_no": 10_000_000}, ["page_no", "at most"]),
        ({"page_no": "\x00"}, ["page_no"]),
        ({"archived": "yes"}, ["archived", "false", "true", "all"]),
        ({"archived": "\x00"}, ["archived"]),
        ({"q": "{not json"}, ["q", "not valid JSON"]),
        ({"q": '{"emails.email": "a@b.com"'}, ["q", "not valid JSON"]),
        ({"q": '{"password": "x"}'}, ["q", "unknown field", "password"]),
        ({"q": '{"emails.email": 5}'}, ["q", "must be a string"]),
        ({"q": '{"emails.email": null}'}, ["q", "must be a string"]),
        ({"q": '{"emails.email": {"$regex": ".*"}}'}, ["q", "$in"]),
        ({"q": '{"$where": "1"}'}, ["q", "unsupported operator", "$where"]),
        ({"q": '{"$or": []}'}, ["q", "$or", "non-empty list"]),
        ({"q": '{"$or": {"emails.email": "a@b.com"}}'}, ["q", "$or", "list"]),
        ({"q": '{"$or": [1, 2]}'}, ["q", "JSON object"]),
        ({"q": "{}"}, ["q", "non-empty"]),
        ({"q": '{"$or":[{"$or":[{"$or":[{"$or":[{"$or":[{"_id":"x"}]}]}]}]}]}'}, ["q", "nested too deeply"]),
        ({"q": json.dumps({"$or": [{"rr_id": "r"} for _ in range(21)]})}, ["q", "at most 20"]),
        ({"q": json.dumps({"rr_id": {"$in": [str(i) for i in range(21)]}})}, ["q", "at most 20"]),
        ({"q": "x" * 501}, ["q", "at most 500"]),
        ({"q": "nul\x00byte"}, ["q", "NUL"]),
        ({"q": "nul\x00@example.com"}, ["q", "NUL"]),
        ({"q": '{"first_name": "a\\u0000b"}'}, ["q", "NUL"]),
    ],
)
def test_list_rejects_bad_query_parameters(api, url, two_customers, params, fragments):
    response = get(api, url, "customers/list", **params)
    assert_error(response, 400, *fragments, code="validation_error")


@pytest.mark.parametrize("q", ["+\u00b2", "\u00b2", "+\u00b2\u00b3 98765", "+\u0669\u0661 \u0669\u0668",
                               "\u0669\u0668\u0667", "+", "+0", "+999 1", "()", "-"])
def test_odd_phone_like_fragments_never_500(api, url, two_customers, q):
    response = get(api, url, "customers/list", q=q)
    assert response.status_code in (200, 400), response.content
    if response.status_code == 200:
        assert response.json()["items"] == []
    else:
        assert_error(response, 400, "q")


def test_list_ignores_blank_paging_values(api, url, two_customers):
    response = get(api, url, "customers/list", page_no="", page_size="", q="  ")
    assert response.status_code == 200
    assert response.json()["page"]["item_total"] == 2


@pytest.mark.parametrize(
    "params,fragments",
    [
        ({"q": "hello"}, ["neither an email address nor a phone number"]),
        ({"q": "a@b.com", "query": "not a contact!"}, ["neither"]),
        ({"q": "nul\x00@example.com"}, ["NUL"]),
        ({"q": "a@b.com", "query": "9\x00"}, []),
    ],
)
def test_search_rejects_bad_values(api, url, two_customers, params, fragments):
    response = get(api, url, "customers/search", **params)
    assert_error(response, 400, *fragments)


def test_search_with_too_many_values_is_400(api, url, two_customers):
    params = [("query", f"user{i}@example.com") for i in range(51)]
    response = api.get(url("customers/search") + "?" + urlencode(params))
    assert_error(response, 400, "at most 50")
    params = [("query", f"user{i}@example.com") for i in range(50)]
    assert api.get(url("customers/search") + "?" + urlencode(params)).status_code == 200


# =========================================================================== path ids


@pytest.mark.parametrize("application_id", ["abc", "000000000000000000000001X", "ZZZZZZZZZZZZZZZZZZZZZZZZ",
                                            "%00"])
def test_malformed_application_id_is_4xx(api, url, application_id):
    response = api.get(url("customers/list", application_id=application_id))
    assert_client_error(response, "application_id")
    response = api.post(url("customers", application_id=application_id), {"phone_number": "9876543210"},
                        format="json")
    assert_client_error(response)
    assert not Customer.objects.exists()


def test_non_numeric_company_is_json_404(api, url, application):
    response = api.get(f"/service/platform/user/v1.0/company/abc/application/{application.id}/customers/list")
    assert_error(response, 404)


def test_unknown_method_is_405(api, url):
    assert_error(api.delete(url("customers/list")), 405, "DELETE")
    assert_error(api.patch(url("customers/activation"), {}, format="json"), 405)


# =========================================================================== regression: the token endpoint


def test_token_endpoint_with_nul_in_client_id_is_401(db):
    from tests.helpers import basic, post_form, token_url

    response = post_form(token_url(), {"grant_type": "client_credentials"},
                         HTTP_AUTHORIZATION=basic("a\x00b", "secret"))
    assert_error(response, 401, code="invalid_client")
    response = post_form(token_url(), {"grant_type": "client_credentials", "client_id": "a\x00",
                                       "client_secret": "x"})
    assert_error(response, 401, code="invalid_client")


def test_bearer_token_with_odd_bytes_is_401(application, url):
    from tests.helpers import bearer_client

    for token in ("\x00", "é" * 10, "x" * 10_000):
        assert_error(bearer_client(token).get(url("customers/list")), 401)
