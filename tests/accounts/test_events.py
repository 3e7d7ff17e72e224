"""The storefront's changes in the event log (docs/events.md): each is an event, and no payload carries a
password, a code, a token, a session cookie or a platform config secret in clear."""

import json

from tests.accounts.test_sign_in import PASSWORD, register, verify_mobile
from users import eventlog
from users.models import AuditEvent

NEW_PASSWORD = "Another-horse-7"
FACEBOOK_SECRET = "fb-app-secret-1234567890"


def test_storefront_events_are_published_and_hold_no_secret(storefront, delivered, application, platform_config,
                                                            api, url):
    answer = register(storefront).json()
    code = delivered.code_for("+919876543210")
    verified = verify_mobile(storefront, delivered, answer, register_token=answer["register_token"])
    cookie = verified.cookies["f.session"].value
    changed = storefront.post("authentication/v1.0/password", {"old_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 200, changed.content
    platform_config(social_tokens={"facebook": {"app_id": "1234", "app_secret": FACEBOOK_SECRET}})

    eventlog.sequence_all()
    served = api.get(url("events"), {"page_size": 100}).json()["items"]
    types = {e["type"] for e in served}
    assert {"customer.created", "account.signed_up", "contact.verified", "account.signed_in",
            "account.password_changed", "platform_config.updated"} <= types
    stored = json.dumps([e.data for e in AuditEvent.objects.filter(application_id=application.id)])
    for secret in (PASSWORD, NEW_PASSWORD, code, answer["register_token"], answer["request_id"], cookie,
                   FACEBOOK_SECRET, application.storefront_token):
        assert secret not in stored and secret not in json.dumps(served), secret
