"""Forgotten passwords on the storefront: reset links by email and SMS (sendResetPasswordEmail /
sendResetPasswordMobile, sendResetToken, forgotPassword), one-time codes (sendForgotOTPOnEmail /
sendForgotOTPOnMobile, verifyEmailForgotOTP / verifyMobileForgotOTP, resetForgotPassword) and the code of an
expired password — links and codes read from the real SMTP server and SMS receiver."""

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import keyspace, recovery
from accounts.models import Credential
from core.actors import Actor
from sessions_app import store
from tests.helpers import assert_error
from users import services as customer_services
from users.models import AuditEvent, Customer

PASSWORD = "Correct-horse-9"
NEW_PASSWORD = "Brand-new-pass-4"
EMAIL, PHONE = "asha@example.com", "+919876543210"
AUTH = "authentication/v1.0/"
LINK_CODE = re.compile(r"reset-password\?code=([A-Za-z0-9_-]+)")
STAFF = Actor("staff", "staff-1", "Staff")


@pytest.fixture
def member(storefront, delivered, application):
    """A customer with a password and a verified mobile, signed in (their session is ``member.cookie``)."""
    answer = storefront.post(AUTH + "register/form", {
        "first_name": "Asha", "email": EMAIL, "password": PASSWORD,
        "phone": {"country_code": "91", "mobile": "9876543210"}}).json()
    storefront.post(AUTH + "otp/mobile/verify", {"request_id": answer["request_id"], "otp": delivered.code_for(PHONE),
                                                 "register_token": answer["register_token"]})
    customer = Customer.objects.get(application=application, first_name="Asha")
    customer.cookie = storefront.client.cookies["f.session"].value
    storefront.client.cookies.clear()
    return customer


def session_alive(cookie: str) -> bool:
    return store.get(store.unsign(cookie) or "") is not None


def link_code(text: str) -> str:
    return LINK_CODE.search(text).group(1)


def emailed_link_code(delivered) -> str:
    return link_code(delivered.emails_to(EMAIL)[-1].get_body(("plain",)).get_content())


def signs_in(storefront, password) -> bool:
    response = storefront.post(AUTH + "login/password", {"username": EMAIL, "password": password})
    storefront.client.cookies.clear()
    return response.status_code == 200


def test_a_reset_link_by_email_sets_the_password_signs_in_and_ends_the_other_sessions(storefront, delivered, member,
                                                                                      settings):
    assert session_alive(member.cookie)
    sent = storefront.post(AUTH + "login/password/reset?platform=" + member.application_id,
                           {"email": "ASHA@example.com", "captcha_code": "anything"})
    assert sent.status_code == 200, sent.content
    assert sent.json() == {"status": "sent"}
    [email] = [m for m in delivered.emails_to(EMAIL) if "reset" in m["Subject"].lower()]
    text = email.get_body(("plain",)).get_content()
    assert "Demo Store" in text and settings.PUBLIC_BASE_URL + "/reset-password?code=" in text
    code = link_code(text)

    for _ in range(2):  # checking the code does not use it up
        checked = storefront.post(AUTH + "login/password/reset/token", {"code": code})
        assert checked.status_code == 200 and checked.json() == {"status": "success"}
    assert_error(storefront.post(AUTH + "login/password/reset/forgot", {"code": code, "password": "short"}), 400,
                 "password")
    done = storefront.post(AUTH + "login/password/reset/forgot", {"code": code, "password": NEW_PASSWORD})
    assert done.status_code == 200, done.content
    assert done.json()["user"]["_id"] == member.id and done.json()["user"]["emails"][0]["verified"] is True
    assert storefront.signed_in and done.cookies["f.session"]["httponly"]
    assert not session_alive(member.cookie)  # the session signed in before the reset has ended
    assert "changed" in delivered.emails_to(EMAIL)[-1]["Subject"].lower()
    actions = set(AuditEvent.objects.filter(customer_id=member.id).values_list("action", flat=True))
    assert {"account.password_reset", "sessions.deleted"} <= actions

    assert_error(storefront.post(AUTH + "login/password/reset/forgot", {"code": code, "password": "Other-pass-55"}),
                 400, code="token_invalid")  # single use
    assert_error(storefront.post(AUTH + "login/password/reset/token", {"code": code}), 400, code="token_invalid")
    storefront.client.cookies.clear()
    assert signs_in(storefront, NEW_PASSWORD) and not signs_in(storefront, PASSWORD)


def test_a_reset_link_by_sms(storefront, delivered, member):
    sent = storefront.post(AUTH + "login/password/mobile/reset", {"country_code": "91", "mobile": "9876543210"})
    assert sent.status_code == 200 and sent.json() == {"status": "sent"}
    code = link_code(delivered.sms_to(PHONE)[-1]["text"])
    done = storefront.post(AUTH + "login/password/reset/forgot", {"code": code, "password": NEW_PASSWORD})
    assert done.status_code == 200, done.content
    assert done.json()["user"]["phone_numbers"][0]["phone"] == "9876543210" and storefront.signed_in


def test_a_code_by_email_gives_a_single_use_forgot_token(storefront, delivered, member):
    sent = storefront.post(AUTH + "otp/forgot/email/send", {"email": EMAIL, "action": "send", "token": ""})
    assert sent.status_code == 200, sent.content
    assert sent.json()["success"] is True and isinstance(sent.json()["resend_email_token"], str)
    assert_error(storefront.post(AUTH + "otp/forgot/email/verify", {"email": EMAIL, "otp": "000000"}), 400,
                 code="otp_invalid")
    verified = storefront.post(AUTH + "otp/forgot/email/verify", {"email": EMAIL, "otp": delivered.code_for(EMAIL)})
    assert verified.status_code == 200, verified.content
    token = verified.json()["forgot_token"]
    assert verified.json()["success"] is True and len(token) >= 43

    done = storefront.post(AUTH + "login/password/forgot", {"code": token, "password": NEW_PASSWORD})
    assert done.status_code == 200 and done.json() == {"success": True}
    assert not storefront.signed_in  # resetForgotPassword does not sign in
    assert_error(storefront.post(AUTH + "login/password/forgot", {"code": token, "password": "Other-pass-55"}), 400,
                 code="token_invalid")
    assert signs_in(storefront, NEW_PASSWORD)


def test_a_code_by_sms_gives_a_forgot_token(storefront, delivered, member):
    sent = storefront.post(AUTH + "otp/forgot/mobile/send?platform=x", {"mobile": "9876543210", "country_code": "91",
                                                                         "action": "send", "android_hash": "abc"})
    assert sent.status_code == 200, sent.content
    body = sent.json()
    assert body["success"] is True and body["message"] == "OTP sent" and body["resend_timer"] > 0
    assert (body["mobile"], body["country_code"]) == ("9876543210", "91") and body["request_id"]
    code = delivered.code_for(PHONE)
    verified = storefront.post(AUTH + "otp/forgot/mobile/verify", {"request_id": body["request_id"], "otp": code})
    assert verified.status_code == 200, verified.content
    assert_error(storefront.post(AUTH + "otp/forgot/mobile/verify", {"request_id": body["request_id"], "otp": code}),
                 400, code="otp_expired")  # the code is used up
    done = storefront.post(AUTH + "login/password/forgot", {"code": verified.json()["forgot_token"],
                                                            "password": NEW_PASSWORD})
    assert done.status_code == 200 and done.json() == {"success": True}
    assert not session_alive(member.cookie)


def test_a_sign_in_code_does_not_reset_and_a_forgot_code_does_not_sign_in(storefront, delivered, member):
    login = storefront.post(AUTH + "otp/email/send", {"email": EMAIL})
    assert login.status_code == 200
    assert_error(storefront.post(AUTH + "otp/forgot/email/verify", {"email": EMAIL, "otp": delivered.code_for(EMAIL)}),
                 400, code="otp_expired")  # purposes are apart


def sends(storefront, email, mobile):
    return [
        storefront.post(AUTH + "login/password/reset", {"email": email}),
        storefront.post(AUTH + "login/password/mobile/reset", {"country_code": "91", "mobile": mobile}),
        storefront.post(AUTH + "otp/forgot/email/send", {"email": email}),
        storefront.post(AUTH + "otp/forgot/mobile/send", {"country_code": "91", "mobile": mobile}),
    ]


def shape(response) -> tuple:
    body = response.json()
    return response.status_code, {key: type(value) for key, value in body.items()}, body.get("status"), \
        body.get("message"), body.get("resend_timer")


def forget_timers():
    """The resend timers the sends above started (and every other code and count): the same sends may run again."""
    client = keyspace.connection()
    for key in client.scan_iter(match=keyspace.PREFIX + "*"):
        client.delete(key)


@pytest.mark.parametrize("state", ["unknown", "blocked", "archived"])
def test_nobody_to_recover_gets_the_same_answers_and_nothing_is_sent(storefront, delivered, member, application,
                                                                     state):
    known = [shape(r) for r in sends(storefront, EMAIL, "9876543210")]
    assert all(status == 200 for status, *_ in known), known
    forget_timers()
    delivered.smtp.messages.clear()
    delivered.sms.requests.clear()
    email, mobile = EMAIL, "9876543210"
    if state == "unknown":
        email, mobile = "nobody@example.com", "9123456789"
    elif state == "blocked":
        customer_services.set_customers_active(application, [member.id], False, "fraud", STAFF)
    else:
        customer_services.archive_customer(application, member.id, STAFF)
    assert [shape(r) for r in sends(storefront, email, mobile)] == known
    assert not delivered.smtp.messages and not delivered.sms.requests
    again = storefront.post(AUTH + "otp/forgot/email/send", {"email": email})
    assert_error(again, 429, code="otp_resend_too_soon")  # the resend timer runs as for a customer
    request_id = storefront.post(AUTH + "otp/forgot/mobile/send", {"country_code": "91", "mobile": "9000000001"}
                                 ).json()["request_id"]
    for guess in ("000000", "111111"):  # a guessed code of a contact nobody can recover gives no forgot_token
        assert storefront.post(AUTH + "otp/forgot/mobile/verify", {"request_id": request_id, "otp": guess}
                               ).status_code == 400


def test_a_blocked_customer_cannot_use_a_code_sent_before(storefront, delivered, member, application):
    storefront.post(AUTH + "login/password/reset", {"email": EMAIL})
    code = emailed_link_code(delivered)
    customer_services.set_customers_active(application, [member.id], False, "fraud", STAFF)
    for path in ("login/password/reset/token", "login/password/reset/forgot", "login/password/forgot"):
        assert_error(storefront.post(AUTH + path, {"code": code, "password": NEW_PASSWORD}), 403,
                     code="account_unavailable")
    assert not storefront.signed_in


ALL_OPERATIONS = [
    ("login/password/reset", {"email": EMAIL}),
    ("login/password/mobile/reset", {"country_code": "91", "mobile": "9876543210"}),
    ("login/password/reset/token", {"code": "x"}),
    ("login/password/reset/forgot", {"code": "x", "password": NEW_PASSWORD}),
    ("login/password/forgot", {"code": "x", "password": NEW_PASSWORD}),
    ("otp/forgot/email/send", {"email": EMAIL}),
    ("otp/forgot/mobile/send", {"country_code": "91", "mobile": "9876543210"}),
    ("otp/forgot/email/verify", {"email": EMAIL, "otp": "123456"}),
    ("otp/forgot/mobile/verify", {"request_id": "ab" * 16, "otp": "123456"}),
]


@pytest.mark.parametrize("changes,code", [({"forgot_password": False}, "forgot_password_disabled"),
                                          ({"active": False}, "authentication_disabled")])
def test_the_platform_config_turns_recovery_off(storefront, delivered, member, platform_config, changes, code):
    storefront.post(AUTH + "login/password/reset", {"email": EMAIL})
    link = emailed_link_code(delivered)
    platform_config(**changes)
    for path, body in ALL_OPERATIONS:
        body = {key: link if value == "x" else value for key, value in body.items()}
        assert_error(storefront.post(AUTH + path, body), 403, code=code)
    assert len(delivered.emails_to(EMAIL)) == 1  # the link sent before the switch, nothing since
    assert signs_in(storefront, PASSWORD) is (code != "authentication_disabled")  # the password still works


def test_reset_codes_and_forgot_codes_expire(storefront, delivered, member, monkeypatch, settings):
    monkeypatch.setattr(recovery, "RESET_TOKEN_SECONDS", 1)
    settings.OTP_TTL_SECONDS = 1
    storefront.post(AUTH + "login/password/reset", {"email": EMAIL})
    sent = storefront.post(AUTH + "otp/forgot/mobile/send", {"country_code": "91", "mobile": "9876543210"}).json()
    code = emailed_link_code(delivered)
    assert storefront.post(AUTH + "login/password/reset/token", {"code": code}).status_code == 200
    time.sleep(1.2)
    assert_error(storefront.post(AUTH + "login/password/reset/token", {"code": code}), 400, code="token_invalid")
    assert_error(storefront.post(AUTH + "login/password/reset/forgot", {"code": code, "password": NEW_PASSWORD}), 400,
                 code="token_invalid")
    assert_error(storefront.post(AUTH + "otp/forgot/mobile/verify", {"request_id": sent["request_id"],
                                                                     "otp": delivered.code_for(PHONE)}),
                 400, code="otp_expired")
    assert signs_in(storefront, PASSWORD)


def test_a_reset_follows_the_password_rules_and_history(storefront, delivered, member, platform_config):
    platform_config(password_settings={"configs": {"length": 12, "require_number": True},
                                       "history": {"required": True, "count": 2}})
    storefront.post(AUTH + "login/password/reset", {"email": EMAIL})
    code = emailed_link_code(delivered)
    weak = assert_error(storefront.post(AUTH + "login/password/reset/forgot", {"code": code, "password": "Abcdefgh"}),
                        400, "12")
    assert weak["code"] == "validation_error"
    reused = storefront.post(AUTH + "login/password/reset/forgot", {"code": code, "password": PASSWORD})
    assert_error(reused, 400, code="password_reused")
    done = storefront.post(AUTH + "login/password/reset/forgot", {"code": code, "password": "Long-new-pass-42"})
    assert done.status_code == 200, done.content  # refused passwords did not use the code up
    assert len(Credential.objects.get(customer_id=member.id).previous_passwords) == 1


def test_an_expired_password_is_replaced_with_its_code(storefront, delivered, member, platform_config):
    platform_config(password_settings={"expiry": {"required": True, "duration": 30}})
    Credential.objects.filter(customer_id=member.id).update(password_changed_at=timezone.now() - timedelta(days=31))
    expired = storefront.post(AUTH + "login/password", {"username": EMAIL, "password": PASSWORD})
    code = assert_error(expired, 403, code="password_expired")["meta"]["code"]
    done = storefront.post(AUTH + "login/password/forgot", {"code": code, "password": NEW_PASSWORD})
    assert done.status_code == 200 and done.json() == {"success": True}
    assert signs_in(storefront, NEW_PASSWORD)


def test_a_link_stops_working_once_the_password_changed(storefront, delivered, member):
    storefront.post(AUTH + "login/password/reset", {"email": EMAIL})
    first = emailed_link_code(delivered)
    sent = storefront.post(AUTH + "otp/forgot/email/send", {"email": EMAIL})
    assert sent.status_code == 200
    token = storefront.post(AUTH + "otp/forgot/email/verify", {"email": EMAIL, "otp": delivered.code_for(EMAIL)}
                            ).json()["forgot_token"]
    assert storefront.post(AUTH + "login/password/forgot", {"code": token, "password": NEW_PASSWORD}).status_code == 200
    assert_error(storefront.post(AUTH + "login/password/reset/token", {"code": first}), 400, code="token_invalid")


def test_wrong_codes_lock_the_verify_step_and_a_reset_lifts_the_sign_in_lockout(storefront, delivered, member,
                                                                               platform_config):
    platform_config(account_lockout={"enable": True, "attempts": 3, "duration": 10})
    for _ in range(3):
        storefront.post(AUTH + "login/password", {"username": EMAIL, "password": "wrong"})
    assert_error(storefront.post(AUTH + "login/password", {"username": EMAIL, "password": PASSWORD}), 403,
                 code="account_locked")
    storefront.post(AUTH + "otp/forgot/email/send", {"email": EMAIL})
    for _ in range(3):
        assert_error(storefront.post(AUTH + "otp/forgot/email/verify", {"email": EMAIL, "otp": "000000"}), 400,
                     code="otp_invalid")
    locked = storefront.post(AUTH + "otp/forgot/email/verify", {"email": EMAIL, "otp": delivered.code_for(EMAIL)})
    assert_error(locked, 403, code="account_locked")  # also with the right code

    storefront.post(AUTH + "login/password/mobile/reset", {"country_code": "91", "mobile": "9876543210"})
    code = link_code(delivered.sms_to(PHONE)[-1]["text"])
    assert storefront.post(AUTH + "login/password/reset/forgot", {"code": code, "password": NEW_PASSWORD}
                           ).status_code == 200
    storefront.client.cookies.clear()
    assert signs_in(storefront, NEW_PASSWORD)
    assert AuditEvent.objects.filter(customer_id=member.id, action="account.unlocked").exists()


def test_resets_are_rate_limited(storefront, delivered, member, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "reset": (50, 2, 3600)}
    for _ in range(2):
        assert storefront.post(AUTH + "login/password/reset", {"email": EMAIL}).status_code == 200
    limited = storefront.post(AUTH + "login/password/reset", {"email": EMAIL})
    assert_error(limited, 429, code="rate_limited")
    assert int(limited["Retry-After"]) > 3500
    assert len([m for m in delivered.emails_to(EMAIL) if "reset" in m["Subject"].lower()]) == 2
