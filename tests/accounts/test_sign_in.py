"""Sign-up and sign-in on the storefront: registerWithForm, loginWithEmailAndPassword, the one-time code
flows (sendOTPOnMobile / loginWithOTP / verifyMobileOTP, sendOTPOnEmail / verifyEmailOTP), userExists,
hasPassword and updatePassword — codes read from the real SMTP server and SMS receiver."""

import pytest

from accounts.models import Credential
from tests.helpers import assert_error
from users.models import AuditEvent, Customer

PASSWORD = "Correct-horse-9"


def register(storefront, **body):
    body = {"first_name": "Asha", "last_name": "Rao", "email": "asha@example.com", "password": PASSWORD,
            "phone": {"country_code": "91", "mobile": "9876543210"}, **body}
    return storefront.post("authentication/v1.0/register/form", body)


def verify_mobile(storefront, delivered, answer, **extra):
    return storefront.post("authentication/v1.0/otp/mobile/verify", {
        "request_id": answer["request_id"], "otp": delivered.code_for("+919876543210"), **extra})


def test_sign_up_sends_a_code_by_sms_and_the_code_signs_the_new_customer_in(storefront, delivered, application):
    response = register(storefront)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["success"] is True and answer["verify_mobile_otp"] is True and answer["verify_email_otp"] is False
    assert answer["mobile"] == "9876543210" and answer["country_code"] == "91" and answer["resend_timer"] > 0
    assert answer["register_token"] and answer["request_id"]
    assert not storefront.signed_in  # the mobile must be verified first (level hard by default)
    customer = Customer.objects.get(application=application, first_name="Asha")
    credential = Credential.objects.get(customer=customer)
    assert credential.password.startswith("argon2$argon2id$") and PASSWORD not in credential.password
    [sms] = delivered.sms_to("+919876543210")
    assert "Demo Store" in sms["text"]

    verified = verify_mobile(storefront, delivered, answer, register_token=answer["register_token"])
    assert verified.status_code == 200, verified.content
    body = verified.json()
    assert body["user_exists"] is True and body["user"]["_id"] == customer.id
    assert body["user"]["phone_numbers"][0]["verified"] is True
    assert storefront.signed_in
    actions = list(AuditEvent.objects.filter(customer_id=customer.id).values_list("action", flat=True))
    assert {"customer.created", "account.signed_up", "contact.verified", "account.signed_in"} <= set(actions)


def test_password_sign_in_works_by_email_or_mobile_once_verified(storefront, delivered):
    answer = register(storefront).json()
    assert_error(storefront.post("authentication/v1.0/login/password",
                                 {"username": "asha@example.com", "password": PASSWORD}), 403, "Verify your mobile")
    verify_mobile(storefront, delivered, answer, register_token=answer["register_token"])
    storefront.client.cookies.clear()
    for username in ("asha@example.com", "ASHA@example.com ", "+919876543210", "9876543210"):
        response = storefront.post("authentication/v1.0/login/password", {"username": username, "password": PASSWORD})
        assert response.status_code == 200, (username, response.content)
        assert response.json()["user"]["emails"][0]["email"] == "asha@example.com"
        assert response.cookies["f.session"]["httponly"]
    wrong = storefront.post("authentication/v1.0/login/password", {"username": "asha@example.com", "password": "nope"})
    assert_error(wrong, 401, "Incorrect email, mobile number or password.")
    unknown = storefront.post("authentication/v1.0/login/password", {"username": "nobody@example.com",
                                                                      "password": PASSWORD})
    assert_error(unknown, 401, "Incorrect email, mobile number or password.")


def test_an_unknown_mobile_signs_up_through_the_otp_and_a_register_token(storefront, delivered, application):
    sent = storefront.post("authentication/v1.0/login/otp", {"mobile": "9123456789", "country_code": "91"})
    assert sent.status_code == 200, sent.content
    assert sent.json()["request_id"] and sent.json()["message"] == "OTP sent"
    answer = storefront.post("authentication/v1.0/otp/mobile/verify", {
        "request_id": sent.json()["request_id"], "otp": delivered.code_for("+919123456789")}).json()
    assert answer["user_exists"] is False and answer["register_token"] and not storefront.signed_in
    done = storefront.post("authentication/v1.0/register/form", {
        "first_name": "Bala", "password": PASSWORD, "register_token": answer["register_token"]})
    assert done.status_code == 200, done.content
    assert done.json()["verify_mobile_otp"] is False and storefront.signed_in
    phone = Customer.objects.get(application=application, first_name="Bala").phones.get()
    assert (phone.e164, phone.verified) == ("+919123456789", True)
    again = storefront.post("authentication/v1.0/register/form", {
        "first_name": "Bala", "password": PASSWORD, "register_token": answer["register_token"]})
    assert again.status_code == 400  # the register token is single-use


def test_a_known_customer_signs_in_with_an_email_code(storefront, delivered):
    answer = register(storefront).json()
    verify_mobile(storefront, delivered, answer, register_token=answer["register_token"])
    storefront.client.cookies.clear()
    sent = storefront.post("authentication/v1.0/otp/email/send", {"email": "asha@example.com"})
    assert sent.status_code == 200 and sent.json()["success"] is True and sent.json()["resend_email_token"]
    wrong = storefront.post("authentication/v1.0/otp/email/verify", {"email": "asha@example.com", "otp": "000000"})
    assert wrong.status_code == 400
    code = delivered.code_for("asha@example.com")
    signed = storefront.post("authentication/v1.0/otp/email/verify", {"email": "asha@example.com", "otp": code})
    assert signed.status_code == 200, signed.content
    assert signed.json()["user_exists"] is True and signed.json()["user"]["emails"][0]["verified"] is True
    assert storefront.signed_in
    reused = storefront.post("authentication/v1.0/otp/email/verify", {"email": "asha@example.com", "otp": code})
    assert reused.status_code == 400  # single use


def test_user_exists_has_password_and_update_password(storefront, delivered):
    assert storefront.get("authentication/v1.0/user-exists", {"q": "asha@example.com"}).json() == {"user_exists": False}
    answer = register(storefront).json()
    assert storefront.get("authentication/v1.0/user-exists", {"q": "asha@example.com"}).json() == {"user_exists": True}
    assert storefront.get("authentication/v1.0/user-exists", {"q": "+919876543210"}).json() == {"user_exists": True}
    verify_mobile(storefront, delivered, answer, register_token=answer["register_token"])
    assert storefront.get("authentication/v1.0/has-password").json() == {"result": 1}
    bad = storefront.post("authentication/v1.0/password", {"old_password": "wrong", "new_password": "New-pass-77"})
    assert bad.status_code == 401
    changed = storefront.post("authentication/v1.0/password", {"old_password": PASSWORD, "new_password": "New-pass-77"})
    assert changed.status_code == 200, changed.content
    assert delivered.emails_to("asha@example.com")  # "your password was changed"
    storefront.client.cookies.clear()
    assert storefront.post("authentication/v1.0/login/password",
                           {"username": "asha@example.com", "password": "New-pass-77"}).status_code == 200


@pytest.mark.parametrize("changes,call,status,phrase", [
    ({"active": False}, ("login/password", {"username": "a@example.com", "password": "x"}), 403, "turned off"),
    ({"register": False}, ("register/form", {"email": "a@example.com", "password": PASSWORD}), 403, "closed"),
    ({"login": {"password": False, "otp": True}}, ("login/password", {"username": "a@example.com", "password": "x"}),
     403, "password is turned off"),
    ({"login": {"password": True, "otp": False}}, ("login/otp", {"mobile": "9123456789", "country_code": "91"}),
     403, "one-time code is turned off"),
])
def test_platform_config_switches(storefront, delivered, platform_config, changes, call, status, phrase):
    platform_config(**changes)
    response = storefront.post("authentication/v1.0/" + call[0], call[1])
    assert response.status_code == status, response.content
    assert phrase in response.json()["message"]


def test_soft_verification_signs_in_at_once(storefront, delivered, platform_config):
    platform_config(register_required_fields={"email": {"is_required": False, "level": "soft"},
                                              "mobile": {"is_required": True, "level": "soft"},
                                              "password": {"is_required": True}})
    answer = register(storefront).json()
    assert answer["verify_mobile_otp"] is False and storefront.signed_in


def test_password_rules_apply_on_sign_up(storefront, delivered, platform_config):
    platform_config(password_settings={"configs": {"length": 12, "require_special_character": True,
                                                   "require_number": True, "require_capital_character": True}})
    response = register(storefront, password="short")
    assert response.status_code == 400 and "12" in response.json()["message"]
