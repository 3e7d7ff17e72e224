"""OAuth token endpoint, bearer authentication, company isolation and per-operation scopes."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core.tenancy import services as core_services
from core.tenancy.models import ALL_SCOPES, SCOPE_CUSTOMERS_READ, SCOPE_CUSTOMERS_WRITE, SCOPE_SETTINGS_WRITE, ApiClient, OAuthToken, hash_secret
from tests.helpers import COMPANY_ID
from tests.helpers import assert_error, basic, bearer_client, post_form, request_token, token_url


@pytest.fixture
def credentials(db):
    """A fresh OAuth client of company 559 with every scope: (record, secret)."""
    return core_services.create_api_client(company_id=COMPANY_ID, name="integration", scopes=list(ALL_SCOPES))


# --------------------------------------------------------------------------- token endpoint


def test_client_credentials_grant_returns_sdk_token_shape(credentials):
    record, secret = credentials
    response = request_token(record.client_id, secret)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) >= {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600 and isinstance(body["expires_in"], int)
    assert isinstance(body["access_token"], str) and len(body["access_token"]) >= 32
    assert isinstance(body["refresh_token"], str) and body["refresh_token"] != body["access_token"]
    assert sorted(body["scope"]) == sorted(ALL_SCOPES)
    assert response["Cache-Control"] == "no-store"
    # Tokens are stored hashed, never in clear.
    access = OAuthToken.objects.get(token_hash=hash_secret(body["access_token"]))
    assert access.kind == OAuthToken.ACCESS and access.client_id == record.client_id
    assert not OAuthToken.objects.filter(token_hash=body["access_token"]).exists()
    refresh = OAuthToken.objects.get(token_hash=hash_secret(body["refresh_token"]))
    assert refresh.kind == OAuthToken.REFRESH
    remaining = (access.expires_at - timezone.now()).total_seconds()
    assert 3500 < remaining <= 3600


def test_issued_access_token_works_on_the_api(credentials, application, url):
    record, secret = credentials
    token = request_token(record.client_id, secret).json()["access_token"]
    response = bearer_client(token).get(url("customers/list"))
    assert response.status_code == 200, response.content
    assert response.json()["items"] == []


def test_client_credentials_in_the_form_body_are_accepted(credentials):
    record, secret = credentials
    response = post_form(token_url(), {"grant_type": "client_credentials", "client_id": record.client_id,
                                       "client_secret": secret})
    assert response.status_code == 200, response.content
    assert response.json()["token_type"] == "Bearer"


def test_token_scope_is_the_clients_scopes(db):
    record, secret = core_services.create_api_client(company_id=COMPANY_ID, name="ro", scopes=[SCOPE_CUSTOMERS_READ])
    body = request_token(record.client_id, secret).json()
    assert body["scope"] == [SCOPE_CUSTOMERS_READ]


def test_refresh_token_grant_rotates_tokens(credentials, application, url):
    record, secret = credentials
    first = request_token(record.client_id, secret).json()
    second = request_token(record.client_id, secret, grant_type="refresh_token",
                           refresh_token=first["refresh_token"])
    assert second.status_code == 200, second.content
    rotated = second.json()
    assert rotated["token_type"] == "Bearer" and rotated["expires_in"] == 3600
    assert rotated["access_token"] != first["access_token"]
    assert rotated["refresh_token"] != first["refresh_token"]
    assert sorted(rotated["scope"]) == sorted(ALL_SCOPES)
    assert bearer_client(rotated["access_token"]).get(url("customers/list")).status_code == 200

    # The spent refresh token is dead.
    again = request_token(record.client_id, secret, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert_error(again, 400, "refresh token", code="invalid_grant")
    # The new one still works once.
    third = request_token(record.client_id, secret, grant_type="refresh_token",
                          refresh_token=rotated["refresh_token"])
    assert third.status_code == 200, third.content


def test_refresh_grant_without_refresh_token_is_400(credentials):
    record, secret = credentials
    response = request_token(record.client_id, secret, grant_type="refresh_token")
    assert_error(response, 400, "refresh_token", code="invalid_request")


def test_refresh_grant_with_unknown_token_is_400(credentials):
    record, secret = credentials
    response = request_token(record.client_id, secret, grant_type="refresh_token", refresh_token="not-a-token")
    assert_error(response, 400, "refresh token", code="invalid_grant")


def test_access_token_is_not_a_refresh_token(credentials):
    record, secret = credentials
    first = request_token(record.client_id, secret).json()
    response = request_token(record.client_id, secret, grant_type="refresh_token",
                             refresh_token=first["access_token"])
    assert_error(response, 400, code="invalid_grant")


def test_refresh_token_of_another_client_is_refused(credentials, db):
    record, secret = credentials
    other, other_secret = core_services.create_api_client(company_id=COMPANY_ID, name="other")
    foreign_refresh = request_token(other.client_id, other_secret).json()["refresh_token"]
    response = request_token(record.client_id, secret, grant_type="refresh_token", refresh_token=foreign_refresh)
    assert_error(response, 400, code="invalid_grant")
    # ... and it was not spent by the failed attempt.
    ok = request_token(other.client_id, other_secret, grant_type="refresh_token", refresh_token=foreign_refresh)
    assert ok.status_code == 200, ok.content


def test_expired_refresh_token_is_refused(credentials):
    record, secret = credentials
    first = request_token(record.client_id, secret).json()
    OAuthToken.objects.filter(token_hash=hash_secret(first["refresh_token"])).update(
        expires_at=timezone.now() - timedelta(seconds=1))
    response = request_token(record.client_id, secret, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert_error(response, 400, "expired", code="invalid_grant")


def test_refresh_keeps_only_scopes_the_client_still_has(credentials):
    record, secret = credentials
    first = request_token(record.client_id, secret).json()
    ApiClient.objects.filter(pk=record.pk).update(scopes=[SCOPE_CUSTOMERS_READ])
    rotated = request_token(record.client_id, secret, grant_type="refresh_token",
                            refresh_token=first["refresh_token"]).json()
    assert rotated["scope"] == [SCOPE_CUSTOMERS_READ]


def test_bad_secret_is_401(credentials):
    record, _secret = credentials
    response = request_token(record.client_id, "wrong-secret")
    body = assert_error(response, 401, "authentication failed", code="invalid_client")
    assert "access_token" not in body
    assert not OAuthToken.objects.filter(client=record).exists()


def test_unknown_client_is_401(db):
    response = request_token("0123456789abcdef01234567", "whatever")
    assert_error(response, 401, code="invalid_client")


def test_inactive_client_is_401(credentials):
    record, secret = credentials
    ApiClient.objects.filter(pk=record.pk).update(is_active=False)
    assert_error(request_token(record.client_id, secret), 401, code="invalid_client")


def test_missing_credentials_is_401(db):
    response = post_form(token_url(), {"grant_type": "client_credentials"})
    assert_error(response, 401, "client credentials", code="invalid_client")


def test_undecodable_basic_header_is_401(db):
    response = post_form(token_url(), {"grant_type": "client_credentials"},
                         HTTP_AUTHORIZATION="Basic %%%not-base64%%%")
    assert_error(response, 401, code="invalid_client")


def test_unknown_grant_type_is_400(credentials):
    record, secret = credentials
    response = request_token(record.client_id, secret, grant_type="password")
    assert_error(response, 400, "grant_type", code="unsupported_grant_type")
    assert not OAuthToken.objects.filter(client=record).exists()


def test_missing_grant_type_is_400(credentials):
    record, secret = credentials
    response = post_form(token_url(), {}, HTTP_AUTHORIZATION=basic(record.client_id, secret))
    assert_error(response, 400, "grant_type", code="unsupported_grant_type")


def test_client_of_another_company_is_401(credentials):
    record, secret = credentials
    response = request_token(record.client_id, secret, company_id=777)
    assert_error(response, 401, "company", code="invalid_client")
    assert not OAuthToken.objects.filter(client=record).exists()


@pytest.mark.parametrize("body", ["[1, 2]", '"client_credentials"', "42", "null"])
def test_token_endpoint_with_non_object_json_body_is_4xx(credentials, body):
    record, secret = credentials
    response = APIClient().post(token_url(), body, content_type="application/json",
                                HTTP_AUTHORIZATION=basic(record.client_id, secret))
    assert_error(response, 400)


def test_token_endpoint_with_malformed_json_is_400(credentials):
    record, secret = credentials
    response = APIClient().post(token_url(), "{not json", content_type="application/json",
                                HTTP_AUTHORIZATION=basic(record.client_id, secret))
    assert_error(response, 400, "JSON")


def test_token_endpoint_accepts_json_body(credentials):
    record, secret = credentials
    response = APIClient().post(token_url(), json.dumps({"grant_type": "client_credentials"}),
                                content_type="application/json", HTTP_AUTHORIZATION=basic(record.client_id, secret))
    assert response.status_code == 200, response.content


def test_token_endpoint_rejects_get(db):
    response = APIClient().get(token_url())
    assert_error(response, 405)


# --------------------------------------------------------------------------- bearer authentication


def test_no_token_is_401(application, url):
    response = APIClient().get(url("customers/list"))
    body = assert_error(response, 401, "access token")
    assert body.get("authenticated") is False
    assert "Bearer" in response["WWW-Authenticate"]


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ", "Bearer a b", "Token abc", "Basic dXNlcjpwYXNz", "bearer-abc", "Bearer\tx y"],
)
def test_malformed_authorization_header_is_401(application, url, header):
    response = APIClient().get(url("customers/list"), HTTP_AUTHORIZATION=header)
    assert_error(response, 401)


def test_unknown_token_is_401(application, url):
    response = bearer_client("this-token-was-never-issued").get(url("customers/list"))
    assert_error(response, 401, "invalid")


def test_expired_access_token_is_401(make_client, application, url):
    client = make_client()
    assert client.get(url("customers/list")).status_code == 200
    OAuthToken.objects.filter(token_hash=hash_secret(client.issued.access_token)).update(
        expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(client.get(url("customers/list")), 401, "expired")


def test_revoked_access_token_is_401(make_client, application, url):
    client = make_client()
    OAuthToken.objects.filter(token_hash=hash_secret(client.issued.access_token)).update(revoked=True)
    assert_error(client.get(url("customers/list")), 401)


def test_token_of_deactivated_client_is_401(make_client, application, url):
    client = make_client()
    ApiClient.objects.filter(pk=client.record.pk).update(is_active=False)
    assert_error(client.get(url("customers/list")), 401)


def test_refresh_token_is_not_an_access_token(make_client, application, url):
    client = make_client()
    response = bearer_client(client.issued.refresh_token).get(url("customers/list"))
    assert_error(response, 401)


def test_whoami_describes_the_caller(make_client, db):
    client = make_client(scopes=[SCOPE_CUSTOMERS_READ])
    response = client.get(f"/service/panel/authentication/v1.0/company/{COMPANY_ID}/whoami")
    assert response.status_code == 200
    assert response.json() == {"client_id": client.record.client_id, "company_id": str(COMPANY_ID),
                               "scopes": [SCOPE_CUSTOMERS_READ]}


# --------------------------------------------------------------------------- company isolation


def test_token_of_another_company_is_403(make_client, application, url):
    foreign = make_client(company_id=777)
    response = foreign.get(url("customers/list"))
    assert_error(response, 403, "company 559")


def test_token_of_another_company_cannot_write(make_client, application, url):
    foreign = make_client(company_id=777)
    response = foreign.post(url("customers"), {"phone_number": "9876543210"}, format="json")
    assert_error(response, 403)
    from users.models import Customer

    assert not Customer.objects.exists()


def test_application_of_another_company_under_own_company_url_is_404(api, url, foreign_application):
    response = api.get(url("customers/list", application_id=foreign_application.id))
    assert_error(response, 404, foreign_application.id, code="application_not_found")
    response = api.post(url("customers", application_id=foreign_application.id), {"phone_number": "9876543210"},
                        format="json")
    assert_error(response, 404, code="application_not_found")


def test_unknown_application_is_404(api, url):
    response = api.get(url("customers/list", application_id="ffffffffffffffffffffffff"))
    assert_error(response, 404, code="application_not_found")


def test_own_token_on_foreign_company_url_is_403(api, foreign_application, url):
    response = api.get(url("customers/list", company_id=777, application_id=foreign_application.id))
    assert_error(response, 403, "company 777")


# --------------------------------------------------------------------------- scopes


READ_OPERATIONS = [("get", "customers/list", None), ("get", "customers/search?q=a@b.com", None)]
WRITE_OPERATIONS = [
    ("post", "customers", {"phone_number": "9876543210"}),
    ("put", "customers/0123456789abcdef01234567", {"first_name": "X"}),
    ("put", "customers/activation", {"user_id": ["0123456789abcdef01234567"], "status": False, "reason": "x"}),
    ("put", "customers/archive", {"user_id": "0123456789abcdef01234567"}),
    ("put", "customers/undelete", {"user_id": "0123456789abcdef01234567", "reason": "x"}),
]


@pytest.mark.parametrize("method,suffix,body", READ_OPERATIONS)
def test_read_only_client_can_read(make_client, application, url, method, suffix, body):
    client = make_client(scopes=[SCOPE_CUSTOMERS_READ])
    response = getattr(client, method)(url(suffix))
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("method,suffix,body", WRITE_OPERATIONS)
def test_read_only_client_cannot_write(make_client, application, url, method, suffix, body):
    client = make_client(scopes=[SCOPE_CUSTOMERS_READ])
    response = getattr(client, method)(url(suffix), body, format="json")
    assert_error(response, 403, SCOPE_CUSTOMERS_WRITE)


@pytest.mark.parametrize("method,suffix,body", READ_OPERATIONS)
def test_write_only_client_cannot_read(make_client, application, url, method, suffix, body):
    client = make_client(scopes=[SCOPE_CUSTOMERS_WRITE])
    response = getattr(client, method)(url(suffix))
    assert_error(response, 403, SCOPE_CUSTOMERS_READ)


def test_settings_scope_alone_grants_no_customer_access(make_client, application, url):
    client = make_client(scopes=[SCOPE_SETTINGS_WRITE])
    assert_error(client.get(url("customers/list")), 403, SCOPE_CUSTOMERS_READ)
    assert_error(client.post(url("customers"), {"phone_number": "9876543210"}, format="json"), 403,
                 SCOPE_CUSTOMERS_WRITE)


def test_read_only_client_create_leaves_nothing(make_client, application, url):
    from users.models import AuditEvent, Customer

    client = make_client(scopes=[SCOPE_CUSTOMERS_READ])
    response = client.post(url("customers"), {"phone_number": "9876543210"}, format="json")
    assert response.status_code == 403
    assert not Customer.objects.exists() and not AuditEvent.objects.exists()


def test_write_client_can_create(make_client, application, url):
    client = make_client(scopes=[SCOPE_CUSTOMERS_WRITE])
    response = client.post(url("customers"), {"phone_number": "9876543210"}, format="json")
    assert response.status_code == 200, response.content


def test_scopes_follow_the_token_not_the_client(make_client, application, url):
    """A token keeps the scopes it was issued with; widening the client later needs a new token."""
    client = make_client(scopes=[SCOPE_CUSTOMERS_READ])
    ApiClient.objects.filter(pk=client.record.pk).update(scopes=list(ALL_SCOPES))
    assert client.post(url("customers"), {"phone_number": "9876543210"}, format="json").status_code == 403
