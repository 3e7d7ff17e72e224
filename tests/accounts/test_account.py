"""The storefront's view of the platform config (getPlatformConfig), the signed-in customer's profile details
(updateProfile), editable attributes (getUserAttributes / updateUserAttributes) and account deletion
(deleteUser, confirmed by a code read from the real SMS receiver)."""

import pytest
from django.utils import timezone

from attributes.models import UserAttribute
from tests.helpers import assert_error
from users.models import AuditEvent, Customer

PASSWORD = "Correct-horse-9"
MOBILE = "+919876543210"
DEFINITIONS = "user_attribute/definition"


@pytest.fixture
def customer_id(storefront, delivered, application):
    """Asha, signed up with email, password and mobile, mobile verified: the storefront client is signed in."""
    answer = storefront.post("authentication/v1.0/register/form", {
        "first_name": "Asha", "last_name": "Rao", "email": "asha@example.com", "password": PASSWORD,
        "phone": {"country_code": "91", "mobile": "9876543210"}}).json()
    verified = storefront.post("authentication/v1.0/otp/mobile/verify", {
        "request_id": answer["request_id"], "otp": delivered.code_for(MOBILE),
        "register_token": answer["register_token"]})
    assert verified.status_code == 200 and storefront.signed_in, verified.content
    return verified.json()["user"]["_id"]


def patch(storefront, path, body):
    with storefront.capture(execute=True):
        return storefront.client.patch(storefront.BASE + path, body, format="json")


# ----------------------------------------------------------------------------- getPlatformConfig

def test_the_storefront_config_carries_no_secret(storefront, platform_config):
    platform_config(social_tokens={"google": {"app_id": "google-app", "app_secret": "very-secret-value"}},
                    delete_account_reasons=[{"reason_id": "r1", "reason_text": "Too many emails",
                                             "show_text_area": False}],
                    account_lockout={"enable": True, "attempts": 3, "duration": 10})
    response = storefront.get("platform/v1.0/config", {"name": "Demo Store"})
    assert response.status_code == 200, response.content
    assert "very-secret-value" not in response.content.decode() and "app_secret" not in response.content.decode()
    body = response.json()
    assert body["social_tokens"]["google"] == {"app_id": "google-app"}
    assert body["delete_account_reasons"][0]["reason_id"] == "r1" and body["delete_account_day"] == 7
    assert "account_lockout" not in body
    assert body["login"]["otp"] is True and body["_id"] and isinstance(body["__v"], int)
    assert all(value is not None for value in body.values())


def test_the_storefront_config_needs_the_application_credentials(storefront):
    storefront.client.credentials()
    assert storefront.get("platform/v1.0/config").status_code == 401


# ----------------------------------------------------------------------------- updateProfile

def test_profile_details_are_updated_and_audited(storefront, customer_id):
    response = storefront.post("profile/v1.0/detail", {"first_name": "Asha Devi", "last_name": "", "gender": "female",
                                                       "dob": "1990-05-17",
                                                       "profile_pic_url": "https://cdn.example.com/a.png"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["user"]["first_name"] == "Asha Devi" and body["user"]["last_name"] == "Rao"  # blank = unchanged
    assert body["user"]["dob"] == "1990-05-17" and body["user"]["gender"] == "female"
    assert body["verify_email_otp"] is False and body["verify_mobile_otp"] is False and body["success"] is True
    event = AuditEvent.objects.filter(customer_id=customer_id, action="customer.updated").latest("id")
    assert event.data["changed"]["dob"] == "1990-05-17"
    for bad, phrase in (({"dob": "17/05/1990"}, "dob"), ({"dob": "2999-01-01"}, "dob"),
                        ({"profile_pic_url": "javascript:alert(1)"}, "profile_pic_url")):
        assert_error(storefront.post("profile/v1.0/detail", bad), 400, phrase)


def test_a_new_mobile_is_added_unverified_and_its_code_verifies_it(storefront, delivered, customer_id):
    response = storefront.post("profile/v1.0/detail", {"mobile": {"phone": "9123456789", "country_code": "91"},
                                                       "email": "asha@example.com"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["verify_mobile_otp"] is True and body["verify_email_otp"] is False  # the email is already hers
    assert body["request_id"] and body["mobile"] == "9123456789" and body["resend_timer"] > 0
    added = next(p for p in body["user"]["phone_numbers"] if p["phone"] == "9123456789")
    assert added["verified"] is False and added["primary"] is False
    verified = storefront.post("authentication/v1.0/otp/mobile/verify", {
        "request_id": body["request_id"], "otp": delivered.code_for("+919123456789")})
    assert verified.status_code == 200, verified.content
    phone = Customer.objects.get(id=customer_id).phones.get(e164="+919123456789")
    assert phone.verified and AuditEvent.objects.filter(customer_id=customer_id, action="contact.added").exists()


def test_a_new_email_taken_by_another_customer_is_refused(storefront, delivered, customer_id, create_customer):
    create_customer(first_name="Bala", phone_number="9000000001", email="bala@example.com")
    assert_error(storefront.post("profile/v1.0/detail", {"email": "bala@example.com"}), 409)
    fresh = storefront.post("profile/v1.0/detail", {"email": "asha.rao@example.com"})
    assert fresh.status_code == 200 and fresh.json()["verify_email_otp"] is True, fresh.content
    assert delivered.code_for("asha.rao@example.com")


def test_profile_needs_a_session(storefront):
    assert storefront.post("profile/v1.0/detail", {"first_name": "X"}).status_code == 401


# ----------------------------------------------------------------------------- deleteUser

def delete_with_code(storefront, delivered, customer_id, **body):
    sent = storefront.post("authentication/v1.0/delete", {"user_id": customer_id, **body})
    assert sent.status_code == 200, sent.content
    assert sent.json()["success"] is True and sent.json()["request_id"]
    code = delivered.code_for(MOBILE)
    return sent.json(), storefront.post("authentication/v1.0/delete", {
        "user_id": customer_id, "request_id": sent.json()["request_id"], "otp": code, **body})


def test_deletion_with_the_right_code_archives_ends_sessions_and_notifies(storefront, delivered, customer_id,
                                                                           platform_config):
    platform_config(delete_account_day=14, delete_account_consent={"consent_text": "I understand."},
                    delete_account_reasons=[{"reason_id": "r1", "reason_text": "Too many emails",
                                             "show_text_area": True}])
    before = timezone.now()
    sent, done = delete_with_code(storefront, delivered, customer_id, reason_id="r1", reason="spam")
    assert sent["mobile"] == "9876543210"
    assert done.status_code == 200 and done.json() == {"success": True}, done.content
    customer = Customer.objects.get(id=customer_id)
    assert customer.archived and 13.9 < (customer.restore_until - before).total_seconds() / 86400 <= 14.01
    event = AuditEvent.objects.get(customer_id=customer_id, action="account.deleted")
    assert event.data["reason_id"] == "r1" and event.data["reason"] == "spam"
    assert event.data["consent_text"] == "I understand." and event.data["reason_text"] == "Too many emails"
    assert not storefront.signed_in
    assert storefront.get("authentication/v1.0/session").status_code == 401
    assert "14 days" in delivered.emails_to("asha@example.com")[-1].get_body(("plain",)).get_content()
    assert "deleted" in delivered.sms_to(MOBILE)[-1]["text"]


def test_deletion_with_a_wrong_code_changes_nothing(storefront, delivered, customer_id):
    sent = storefront.post("authentication/v1.0/delete", {"user_id": customer_id}).json()
    right = delivered.code_for(MOBILE)
    wrong = "000000" if right != "000000" else "111111"
    assert_error(storefront.post("authentication/v1.0/delete", {
        "user_id": customer_id, "request_id": sent["request_id"], "otp": wrong}), 400, code="otp_invalid")
    assert not Customer.objects.get(id=customer_id).archived and storefront.signed_in
    assert not AuditEvent.objects.filter(customer_id=customer_id, action="account.deleted").exists()


def test_deletion_refuses_another_user_id_and_unknown_reasons(storefront, delivered, customer_id, platform_config,
                                                               create_customer):
    other = create_customer(first_name="Bala", phone_number="9000000001")
    assert_error(storefront.post("authentication/v1.0/delete", {"user_id": other["_id"]}), 403, code="user_mismatch")
    assert_error(storefront.post("authentication/v1.0/delete", {}), 403, code="user_mismatch")
    platform_config(delete_account_reasons=[{"reason_id": "r1", "reason_text": "x", "show_text_area": False}])
    assert_error(storefront.post("authentication/v1.0/delete", {"user_id": customer_id, "reason_id": "nope"}), 400,
                 "reason_id", code="invalid_reason")
    assert not delivered.sms_to(MOBILE)[1:]  # only the sign-up code: nothing sent for a refused request


# ----------------------------------------------------------------------------- attributes

@pytest.fixture
def definitions(api, url, settings):
    settings.ATTRIBUTE_ENCRYPTION_KEYS = ["nCT5gKp_Q3jsNWOF_T8L2vG6O3w-KB0bRU3Y6aHpGk4="]

    def define(**fields):
        response = api.post(url(DEFINITIONS), {"type": "string", **fields}, format="json")
        assert response.status_code == 201, response.content
        return response.json()

    return {
        "size": define(name="Shoe size", slug="shoe_size", type="number", customer_editable=True,
                       validations=[{"type": "min", "value": 1}, {"type": "max", "value": 20}]),
        "nickname": define(name="Nickname", slug="nickname", customer_editable=True),
        "tier": define(name="Tier", slug="tier"),
        "pan": define(name="PAN", slug="pan", customer_editable=True, encrypted=True),
    }


def test_only_editable_clear_attributes_are_shown(storefront, customer_id, definitions, api, url):
    for definition, value in (("tier", "gold"), ("pan", "ABCDE1234F")):
        response = api.put(url(f"{DEFINITIONS}/{definitions[definition]['_id']}/user/{customer_id}"),
                           {"attribute": {"value": value}}, format="json")
        assert response.status_code == 201, response.content
    response = storefront.get("profile/v1.0/user-attributes")
    assert response.status_code == 200, response.content
    assert response.json() == {"attributes": {"shoe_size": None, "nickname": None}}
    assert "gold" not in response.content.decode() and "ABCDE" not in response.content.decode()
    assert storefront.get("profile/v1.0/user-attributes", {"slug": "tier"}).json() == {"attributes": {}}


def test_editable_attributes_are_written_validated_and_marked_overridden(storefront, customer_id, definitions):
    response = patch(storefront, "profile/v1.0/user-attributes", {"attributes": {"shoe_size": 9, "nickname": "Ash"}})
    assert response.status_code == 200, response.content
    assert response.json() == {"attributes": {"shoe_size": 9, "nickname": "Ash"}}
    assert storefront.get("profile/v1.0/user-attributes", {"slug": "nickname"}).json() == {
        "attributes": {"nickname": "Ash"}}
    assert all(UserAttribute.objects.filter(customer_id=customer_id).values_list("customer_overridden", flat=True))
    assert_error(patch(storefront, "profile/v1.0/user-attributes", {"attributes": {"shoe_size": 99}}), 400,
                 "shoe_size", code="invalid_attribute_value")
    for slug in ("tier", "pan", "unknown"):
        assert_error(patch(storefront, "profile/v1.0/user-attributes", {"attributes": {slug: "x", "nickname": "B"}}),
                     400, slug, code="attribute_not_editable")
    assert_error(patch(storefront, "profile/v1.0/user-attributes", {"attributes": {}}), 400)
    assert storefront.get("profile/v1.0/user-attributes").json()["attributes"]["nickname"] == "Ash"


def test_attributes_need_a_session(storefront):
    assert storefront.get("profile/v1.0/user-attributes").status_code == 401
