"""The official Fynd JavaScript SDK's ApplicationClient against the real service over HTTP: sign-up, password
and one-time-code sign-in, an unknown mobile's registration, password change and reset (link and code), the
v2.0 primary email change and account deletion, each answer validated against the spec's Joi model
(scenario: tests/sdk/storefront.test.js). Codes reach a real SMTP server and the SMS receiver in the
request's commit (Celery eager in the live server's thread); the script reads them without waiting."""

import pytest

from tests.delivery import clear_account_keys
from tests.sdk.inbox import delivery
from tests.sdk.runner import run_sdk_script
from users.models import AuditEvent, Customer

STEPS = 17


@pytest.fixture(autouse=True)
def fresh_account_keys():
    clear_account_keys()
    yield
    clear_account_keys()


def test_fynd_javascript_sdk_drives_the_storefront_accounts(live_server, transactional_db, settings):
    with delivery(settings) as inbox:
        result = run_sdk_script(live_server, "storefront.test.js", "sdk storefront", {"FDK_INBOX": inbox.url})
        assert "FAIL" not in result.stdout and f"all {STEPS} steps passed" in result.stdout, result.stdout
        assert any("changed" in text.lower() for text in inbox.texts_to("chitra@example.com"))

    asha, bala = Customer.objects.get(first_name="Asha"), Customer.objects.get(first_name="Bala")
    assert bala.archived and not asha.archived
    assert {e.email: (e.primary, e.verified) for e in asha.emails.all()}["asha.rao@example.com"] == (True, True)
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"account.signed_up", "account.signed_in", "account.password_reset", "account.deleted"} <= actions
