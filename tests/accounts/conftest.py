"""Storefront account tests: the application with its storefront token, a storefront client, and real
delivery — a real SMTP server (aiosmtpd) for emails and a local HTTP receiver standing in for the SMS
gateway (the signed webhook backend) — with the Celery task run in the request's commit (eager)."""

import base64
import json
import re

import pytest
from rest_framework.test import APIClient

from sessions_app import store
from tests.delivery import clear_account_keys, real_delivery

CODE = re.compile(r"\b(\d{4,6})\b")


@pytest.fixture(autouse=True)
def fresh_account_keys():
    clear_account_keys()
    yield
    clear_account_keys()


class Delivered:
    """What reached the SMTP server and the SMS receiver; the latest one-time code per address."""

    def __init__(self, smtp, sms):
        self.smtp, self.sms = smtp, sms

    def emails_to(self, address: str) -> list:
        return [m for m in self.smtp.messages if m["To"] == address]

    def sms_to(self, e164: str) -> list[dict]:
        return [body for body in (json.loads(r.body) for r in self.sms.requests) if body["to"] == e164]

    def code_for(self, address: str) -> str:
        if "@" in address:
            text = self.emails_to(address)[-1].get_body(("plain",)).get_content()
        else:
            text = self.sms_to(address)[-1]["text"]
        return CODE.search(text).group(1)


@pytest.fixture
def delivered(settings, django_capture_on_commit_callbacks):
    """Real delivery, each request's messages sent as its transaction commits (Celery eager)."""
    with real_delivery(settings) as (smtp, sms):
        yield Delivered(smtp, sms)


class Storefront:
    """The storefront as the SDK's ApplicationClient calls it; commits run (and deliver) per request."""

    BASE = "/service/application/user/"

    def __init__(self, application, capture):
        self.application, self.capture = application, capture
        self.client = APIClient()
        raw = f"{application.id}:{application.storefront_token}"
        self.client.credentials(HTTP_AUTHORIZATION="Bearer " + base64.b64encode(raw.encode()).decode())

    def post(self, path: str, body: dict | None = None, **extra):
        with self.capture(execute=True):
            return self.client.post(self.BASE + path, body or {}, format="json", **extra)

    def get(self, path: str, params: dict | None = None, **extra):
        with self.capture(execute=True):
            return self.client.get(self.BASE + path, params or {}, **extra)

    @property
    def signed_in(self) -> bool:
        cookie = self.client.cookies.get(store.COOKIE_NAME)
        return bool(cookie and cookie.value and store.get(store.unsign(cookie.value) or "") is not None)


@pytest.fixture
def storefront(application, django_capture_on_commit_callbacks):
    return Storefront(application, django_capture_on_commit_callbacks)


@pytest.fixture
def platform_config(api, url):
    def change(**changes):
        response = api.post(url("platform/config"), changes, format="json")
        assert response.status_code == 200, response.content
        return response.json()
    return change
