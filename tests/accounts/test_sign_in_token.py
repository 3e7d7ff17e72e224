"""Platform-issued sign-in tokens (accounts/handoff.py): the platform operation issueSignInToken (our
extension) and ``manage.py issue_sign_in_token`` issue them; the storefront's loginWithToken signs the
customer in once with one. Real PostgreSQL and Redis; the storefront called as the SDK calls it."""

import hashlib
import io
import time

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from accounts import keyspace
from core.tenancy import services as core_services
from core.tenancy.models import SCOPE_CUSTOMERS_READ
from tests.accounts.conftest import Storefront
from tests.helpers import assert_error
from users.models import AuditEvent

LOGIN = "authentication/v1.0/login/token"


@pytest.fixture
def customer(create_customer):
    return create_customer(email="meera@example.com", first_name="Meera")


@pytest.fixture
def issue(api, url):
    def post(user_id, body=None, client=None, **kwargs):
        return (client or api).post(url(f"customers/{user_id}/sign_in_token", **kwargs), body or {}, format="json")
    return post


def issued_token(issue, user_id, **body) -> str:
    response = issue(user_id, body)
    assert response.status_code == 200, response.content
    return response.json()["token"]


def signed_in_user(storefront) -> dict:
    response = storefront.get("authentication/v1.0/session")
    assert response.status_code == 200, response.content
    return response.json()["user"]


def test_platform_issues_a_token_that_signs_the_customer_in_once(issue, customer, storefront, api, application):
    response = issue(customer["_id"])
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"token", "expires_in", "expires_at"} and body["expires_in"] == 300
    assert len(body["token"]) >= 43 and body["expires_at"].endswith("Z")
    # Redis holds only the token's SHA-256, for the lifetime asked.
    keys = [str(k) for k in keyspace.connection().scan_iter(match=keyspace.PREFIX + "*tok:sign_in:*")]
    assert len(keys) == 1 and keys[0].endswith(hashlib.sha256(body["token"].encode()).hexdigest())
    assert body["token"] not in keys[0] and 290 <= keyspace.connection().ttl(keys[0]) <= 300

    signed = storefront.post(LOGIN, {"token": body["token"]})
    assert signed.status_code == 200, signed.content
    assert signed.json()["user"]["_id"] == customer["_id"]
    assert signed.json()["user"]["emails"][0]["email"] == "meera@example.com"
    assert signed.cookies["f.session"]["httponly"] and signed["Cache-Control"] == "no-store"
    assert signed_in_user(storefront)["_id"] == customer["_id"]  # getLoggedInUser with the cookie

    again = Storefront(application, storefront.capture).post(LOGIN, {"token": body["token"]})
    assert_error(again, 401, "invalid, already used or expired", code="token_invalid")

    issued_event = AuditEvent.objects.get(customer_id=customer["_id"], action="sign_in_token.issued")
    assert (issued_event.actor_type, issued_event.actor_id) == ("api_client", api.record.client_id)
    assert issued_event.data["expires_in"] == 300 and body["token"] not in str(issued_event.data)
    signed_event = AuditEvent.objects.get(customer_id=customer["_id"], action="account.signed_in")
    assert signed_event.data["method"] == "token"
    timeline = api.get(f"/service/platform/user/v1.0/company/559/application/{application.id}/customers/"
                       f"{customer['_id']}/timeline").json()["timeline"]
    assert "sign_in_token.issued" in {item["type"] for item in timeline}


def test_expires_in_is_bounded_and_checked(issue, customer):
    response = issue(customer["_id"], {"expires_in": 3600})
    assert response.status_code == 200 and response.json()["expires_in"] == 3600
    assert issue(customer["_id"], {"expires_in": 60.0}).json()["expires_in"] == 60
    for bad in (0, 3601, -5, "60", True, 1.5, None, [60]):
        assert_error(issue(customer["_id"], {"expires_in": bad}), 400, "expires_in")


def test_a_read_only_client_or_another_company_is_refused(issue, customer, make_client, url):
    reader = make_client(scopes=[SCOPE_CUSTOMERS_READ])
    assert_error(issue(customer["_id"], client=reader), 403, "application/customers/write")
    foreign = make_client(company_id=777)
    assert_error(issue(customer["_id"], client=foreign), 403, "company 559")
    assert AuditEvent.objects.filter(action="sign_in_token.issued").count() == 0


def test_unknown_or_malformed_customer_ids_are_clear_errors(issue):
    assert_error(issue("0" * 24), 404, "No customer", code="user_not_found")
    assert_error(issue("not-an-id"), 400, "user_id")


def test_an_expired_token_is_refused(issue, customer, storefront, settings):
    settings.SIGN_IN_TOKEN_SECONDS = 1
    token = issued_token(issue, customer["_id"])
    time.sleep(1.6)
    assert_error(storefront.post(LOGIN, {"token": token}), 401, code="token_invalid")
    assert not storefront.signed_in


def test_a_token_works_only_in_its_own_application(issue, customer, storefront, application, api, url,
                                                   django_capture_on_commit_callbacks):
    second, second_token = core_services.create_application(company_id=559, name="Second Store")
    second.storefront_token = second_token
    elsewhere = Storefront(second, django_capture_on_commit_callbacks)
    token = issued_token(issue, customer["_id"])
    assert_error(elsewhere.post(LOGIN, {"token": token}), 401, code="token_invalid")
    assert not elsewhere.signed_in
    # The other application's customer ids are unknown here, and this customer's are unknown there.
    assert_error(issue(customer["_id"], application_id=second.id), 404, code="user_not_found")
    # Refused elsewhere, the token was not used up: it still works in its own application.
    assert storefront.post(LOGIN, {"token": token}).status_code == 200


def test_blocked_or_archived_customers_get_no_token_and_cannot_use_one(issue, customer, create_customer, api, url,
                                                                        storefront):
    token = issued_token(issue, customer["_id"])
    blocked = api.put(url("customers/activation"), {"user_id": [customer["_id"]], "status": False,
                                                    "reason": "fraud"}, format="json")
    assert blocked.status_code == 200, blocked.content
    assert_error(issue(customer["_id"]), 409, "blocked", code="customer_blocked")
    assert_error(storefront.post(LOGIN, {"token": token}), 403, "cannot sign in", code="account_unavailable")
    assert not storefront.signed_in

    other = create_customer(first_name="Ravi")
    token = issued_token(issue, other["_id"])
    archived = api.put(url("customers/archive"), {"user_id": other["_id"]}, format="json")
    assert archived.status_code == 200, archived.content
    assert_error(issue(other["_id"]), 409, "archived", code="customer_archived")
    assert_error(storefront.post(LOGIN, {"token": token}), 403, code="account_unavailable")


def test_login_with_token_refuses_bad_input_and_a_store_turned_off(storefront, platform_config, issue, customer):
    assert_error(storefront.post(LOGIN, {}), 400, "token is required")
    assert_error(storefront.post(LOGIN, {"token": "   "}), 400, "token is required")
    assert_error(storefront.post(LOGIN, {"token": ["a"]}), 400, "token")
    assert_error(storefront.post(LOGIN, {"token": {"a": 1}}), 400, "token")
    assert_error(storefront.post(LOGIN, {"token": "x" * 201}), 400, "token")
    assert_error(storefront.post(LOGIN, {"token": "made-up"}), 401, code="token_invalid")
    anonymous = APIClient().post(Storefront.BASE + LOGIN, {"token": "made-up"}, format="json")
    assert anonymous.status_code == 401  # no application credentials

    token = issued_token(issue, customer["_id"])
    platform_config(active=False)
    assert_error(storefront.post(LOGIN, {"token": token}), 403, code="authentication_disabled")
    platform_config(active=True)
    assert storefront.post(LOGIN, {"token": token}).status_code == 200  # refused before it was taken


def test_login_with_token_is_rate_limited_per_ip(storefront, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "token_login": (3, 3, 60)}
    for _ in range(3):
        assert storefront.post(LOGIN, {"token": "made-up"}).status_code == 401
    limited = storefront.post(LOGIN, {"token": "made-up"})
    assert_error(limited, 429, code="rate_limited")
    assert int(limited["Retry-After"]) > 0
    other_ip = storefront.post(LOGIN, {"token": "made-up"}, REMOTE_ADDR="192.0.2.9")
    assert other_ip.status_code == 401


def test_the_command_prints_a_token_that_works(customer, storefront, application):
    out, err = io.StringIO(), io.StringIO()
    call_command("issue_sign_in_token", "--application", application.id, "--user", customer["_id"],
                 "--expires-in", "120", stdout=out, stderr=err)
    token = out.getvalue().strip()
    assert token and "\n" not in token
    assert "curl" in err.getvalue() and "/authentication/v1.0/login/token" in err.getvalue()
    assert token in err.getvalue() and application.storefront_token not in err.getvalue()
    assert "120 s" in err.getvalue()
    event = AuditEvent.objects.get(customer_id=customer["_id"], action="sign_in_token.issued")
    assert (event.actor_type, event.actor_name) == ("system", "manage.py issue_sign_in_token")
    signed = storefront.post(LOGIN, {"token": token})
    assert signed.status_code == 200, signed.content
    assert signed_in_user(storefront)["_id"] == customer["_id"]

    with pytest.raises(CommandError, match="No application"):
        call_command("issue_sign_in_token", "--application", "f" * 24, "--user", customer["_id"])
    with pytest.raises(CommandError, match="No customer"):
        call_command("issue_sign_in_token", "--application", application.id, "--user", "0" * 24)
    with pytest.raises(CommandError, match="expires_in"):
        call_command("issue_sign_in_token", "--application", application.id, "--user", customer["_id"],
                     "--expires-in", "7200")
