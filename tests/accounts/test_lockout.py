"""account_lockout through the storefront API: wrong passwords lock the identifier from that client, more
of them from several clients lock the customer, the right password is then refused too (before any
hashing), success resets the count, OTP failures count apart; staff see the state and unlock (admin
action, manage.py unlock_customer); rate limits answer 429 with Retry-After."""

from io import StringIO

import pytest
from django.core.management import call_command

from accounts import limits
from tests.helpers import assert_error
from users.models import AuditEvent, Customer

PASSWORD = "Correct-horse-9"
LOGIN = "authentication/v1.0/login/password"


@pytest.fixture
def member(storefront, delivered, platform_config, application):
    """A verified customer with a password; lockout on: 3 attempts, 10 minutes."""
    platform_config(account_lockout={"enable": True, "attempts": 3, "duration": 10})
    answer = storefront.post("authentication/v1.0/register/form", {
        "first_name": "Asha", "email": "asha@example.com", "password": PASSWORD,
        "phone": {"country_code": "91", "mobile": "9876543210"}}).json()
    storefront.post("authentication/v1.0/otp/mobile/verify", {
        "request_id": answer["request_id"], "otp": delivered.code_for("+919876543210"),
        "register_token": answer["register_token"]})
    storefront.client.cookies.clear()
    return Customer.objects.get(application=application, first_name="Asha")


def attempt(storefront, password, ip="203.0.113.7", username="asha@example.com"):
    return storefront.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_wrong_passwords_lock_the_identifier_from_that_client_only(storefront, member):
    for _ in range(3):
        assert_error(attempt(storefront, "wrong"), 401, "Incorrect")
    locked = attempt(storefront, PASSWORD)
    assert_error(locked, 403, "Too many failed attempts")
    assert locked.json()["code"] == "account_locked" and locked.json()["meta"]["retry_after"] > 0
    assert attempt(storefront, PASSWORD, ip="198.51.100.20").status_code == 200  # another client is not locked out
    assert AuditEvent.objects.filter(customer_id=member.id, action="account.locked").count() == 1


def test_failures_from_several_clients_lock_the_customer_everywhere(storefront, member, settings):
    settings.LOCKOUT_CUSTOMER_FACTOR = 2  # 2 × 3 failures, from two clients
    for ip in ("203.0.113.1", "203.0.113.2"):
        for _ in range(3):
            attempt(storefront, "wrong", ip=ip)
    assert_error(attempt(storefront, PASSWORD, ip="198.51.100.99"), 403, "Too many failed attempts")
    assert_error(attempt(storefront, PASSWORD, ip="198.51.100.99", username="+919876543210"), 403, "Too many")


def test_success_resets_the_count(storefront, member):
    for _ in range(2):
        attempt(storefront, "wrong")
    assert attempt(storefront, PASSWORD).status_code == 200
    for _ in range(2):
        attempt(storefront, "wrong")
    assert attempt(storefront, PASSWORD).status_code == 200


def test_otp_failures_count_apart_from_passwords(storefront, delivered, member):
    sent = storefront.post("authentication/v1.0/login/otp", {"mobile": "9876543210", "country_code": "91"},
                           REMOTE_ADDR="203.0.113.7").json()
    for _ in range(3):
        wrong = storefront.post("authentication/v1.0/otp/mobile/verify", {"request_id": sent["request_id"],
                                                                           "otp": "000000"}, REMOTE_ADDR="203.0.113.7")
        assert wrong.status_code == 400
    assert attempt(storefront, PASSWORD).status_code == 200  # passwords still work from there
    assert AuditEvent.objects.filter(customer_id=member.id, action="account.locked", data__kind="otp").exists()
    locked = storefront.post("authentication/v1.0/otp/mobile/verify", {"request_id": sent["request_id"],
                                                                        "otp": "000000"}, REMOTE_ADDR="203.0.113.7")
    assert_error(locked, 403, "Too many failed attempts")


def test_staff_unlock_through_the_command_and_the_admin(storefront, member, application, staff_client):
    for _ in range(3):
        attempt(storefront, "wrong")
    page = staff_client.get(f"/admin/users/customer/{member.id}/change/")
    assert page.status_code == 200 and b"Locked" in page.content
    out = StringIO()
    call_command("unlock_customer", "--application", application.id, member.id, stdout=out)
    assert "unlocked" in out.getvalue()
    assert attempt(storefront, PASSWORD).status_code == 200
    assert AuditEvent.objects.filter(customer_id=member.id, action="account.unlocked").exists()

    storefront.client.cookies.clear()
    for _ in range(3):
        attempt(storefront, "wrong")
    response = staff_client.post("/admin/users/customer/", {"action": "unlock_customers",
                                                            "_selected_action": [member.id]}, follow=True)
    assert response.status_code == 200 and b"Unlocked 1 customer" in response.content
    assert limits.lockout.state(application.id, member.id)["locked"] is False
    assert attempt(storefront, PASSWORD).status_code == 200


def test_staff_end_every_session_of_a_customer_from_the_admin(storefront, member, staff_client):
    """The "End all sessions" action of the customer list (a lost phone): signed out everywhere at once."""
    assert attempt(storefront, PASSWORD).status_code == 200
    assert storefront.signed_in
    response = staff_client.post("/admin/users/customer/", {"action": "end_sessions",
                                                            "_selected_action": [member.id]}, follow=True)
    assert response.status_code == 200 and b"Signed out 1 customer" in response.content
    assert not storefront.signed_in
    event = AuditEvent.objects.get(customer_id=member.id, action="sessions.deleted")
    assert event.actor_type == "staff" and len(event.data["session_ids"]) == 2  # the sign-up's and this sign-in's
    assert attempt(storefront, PASSWORD).status_code == 200  # signing in again works


def test_sign_in_attempts_are_rate_limited_per_client(storefront, member, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": (2, 100, 60)}
    for _ in range(2):
        attempt(storefront, "wrong", ip="192.0.2.50", username="nobody@example.com")
    limited = attempt(storefront, "wrong", ip="192.0.2.50", username="nobody@example.com")
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert limited.json()["code"] == "rate_limited"
