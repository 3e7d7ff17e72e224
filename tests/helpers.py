"""Shared assertions and small builders for the API tests (fixtures live in the conftest.py files)."""

import base64
from urllib.parse import urlencode

from rest_framework.test import APIClient


COMPANY_ID = 559
APP_ID = "000000000000000000000001"


def platform_path(company_id, application_id, suffix=""):
    return f"/service/platform/user/v1.0/company/{company_id}/application/{application_id}/{suffix}"


TOKEN_PATH = "/service/panel/authentication/v1.0/company/{company_id}/oauth/token"


def token_url(company_id=COMPANY_ID) -> str:
    return TOKEN_PATH.format(company_id=company_id)


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def request_token(client_id: str, secret: str, company_id=COMPANY_ID, **form):
    """POST the token endpoint as the SDK does: HTTP Basic plus a form body."""
    form.setdefault("grant_type", "client_credentials")
    return post_form(token_url(company_id), form, HTTP_AUTHORIZATION=basic(client_id, secret))


def post_form(path: str, form: dict, **extra):
    """application/x-www-form-urlencoded, as OAuth clients send it."""
    return APIClient().post(path, urlencode(form), content_type="application/x-www-form-urlencoded", **extra)


def bearer_client(access_token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token}")
    return client


def assert_error(response, status: int, *fragments: str, code: str | None = None) -> dict:
    """The response is a JSON error {"message", "code"} with this status, and the message names the problem."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("message"), str) and body["message"], body
    assert isinstance(body.get("code"), str) and body["code"], body
    for fragment in fragments:
        assert fragment.lower() in body["message"].lower(), (fragment, body["message"])
    if code is not None:
        assert body["code"] == code, body
    return body


def assert_client_error(response, *fragments: str) -> dict:
    """Any 4xx JSON error whose message names the problem (for cases where 400/404/413/422 all fit)."""
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:500])
    return assert_error(response, response.status_code, *fragments)
