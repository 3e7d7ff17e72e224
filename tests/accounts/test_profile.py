"""The signed-in customer's contacts: addEmail / addMobileNumber with verification links (verifyEmail /
verifyMobile, single use, expiring), deleteEmail / deleteMobileNumber, setEmailAsPrimary /
setMobileNumberAsPrimary, and the v2.0 change after re-verifying the primary — codes and links read
from the real SMTP server and SMS receiver."""

import re
import time
from urllib.parse import unquote, urlencode

import pytest

from core.actors import Actor
from tests.accounts.conftest import Storefront
from tests.helpers import assert_error
from users import services as customer_services
from users.contacts import parse_phone
from users.models import AuditEvent, Customer, CustomerEmail, CustomerPhone

PASSWORD = "Correct-horse-9"
PHONE = "+919876543210"
LINK_CODE = re.compile(r"[?&]code=([^\s&\"<]+)")


def put(storefront, path, body):
    with storefront.capture(execute=True):
        return storefront.client.put(storefront.BASE + path, body, format="json")


def delete(storefront, path, params):
    with storefront.capture(execute=True):
        return storefront.client.delete(storefront.BASE + path + "?" + urlencode(params))


def link_code(delivered, address: str) -> str:
    if "@" in address:
        text = delivered.emails_to(address)[-1].get_body(("plain",)).get_content()
    else:
        text = delivered.sms_to(address)[-1]["text"]
    return unquote(LINK_CODE.search(text).group(1))


@pytest.fixture
def customer(storefront, delivered, application):
    """Asha, signed in: mobile verified and primary, asha@example.com primary but unverified."""
    answer = storefront.post("authentication/v1.0/register/form", {
        "first_name": "Asha", "email": "asha@example.com", "password": PASSWORD,
        "phone": {"country_code": "91", "mobile": "9876543210"}}).json()
    verified = storefront.post("authentication/v1.0/otp/mobile/verify", {
        "request_id": answer["request_id"], "otp": delivered.code_for(PHONE),
        "register_token": answer["register_token"]})
    assert verified.status_code == 200 and storefront.signed_in, verified.content
    return Customer.objects.get(application=application, first_name="Asha")


@pytest.fixture
def visitor(application, django_capture_on_commit_callbacks):
    """Who opens a verification link: the application's credentials, no session."""
    return Storefront(application, django_capture_on_commit_callbacks)


def other_customer(application, email="bala@example.com", phone="+919123456789"):
    return customer_services.register_customer(application, profile={"first_name": "Bala"}, email=email,
                                               phone=parse_phone(phone), actor=Actor("system", "", "test"))


def emails_of(customer):
    return {e.email: (e.primary, e.verified) for e in CustomerEmail.objects.filter(customer=customer)}


def phones_of(customer):
    return {p.e164: (p.primary, p.verified) for p in CustomerPhone.objects.filter(customer=customer)}


def test_add_email_sends_a_single_use_link_that_verifies_it(storefront, visitor, delivered, customer):
    response = put(storefront, "profile/v1.0/email", {"email": " New@Example.com"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["verify_email_link"] is True and body["user"]["_id"] == customer.id
    assert {"email": "new@example.com", "primary": False, "verified": False, "active": True} in body["user"]["emails"]
    code = link_code(delivered, "new@example.com")
    assert "Demo Store" in delivered.emails_to("new@example.com")[-1]["Subject"] + \
        delivered.emails_to("new@example.com")[-1].get_body(("plain",)).get_content()

    verified = visitor.post("authentication/v1.0/verify/email", {"code": code})
    assert verified.status_code == 200, verified.content
    assert verified.json() == {"message": "verified"}
    assert emails_of(customer)["new@example.com"] == (False, True)
    assert_error(visitor.post("authentication/v1.0/verify/email", {"code": code}), 400, "already used")
    actions = set(AuditEvent.objects.filter(customer_id=customer.id).values_list("action", flat=True))
    assert {"contact.added", "contact.verified"} <= actions


def test_add_mobile_verify_by_sms_link_make_it_primary_and_delete_the_old_one(storefront, visitor, delivered,
                                                                              customer):
    added = put(storefront, "profile/v1.0/mobile", {"country_code": "91", "phone": "9000000001"})
    assert added.status_code == 200, added.content
    assert added.json()["verify_mobile_link"] is True
    unverified = storefront.post("profile/v1.0/mobile/primary", {"country_code": "91", "phone": "9000000001"})
    assert_error(unverified, 400, "Verify +919000000001")
    assert visitor.post("authentication/v1.0/verify/email", {"code": link_code(delivered, "+919000000001")}) \
        .status_code == 400  # a mobile's link is no email link
    assert visitor.post("authentication/v1.0/verify/mobile",
                        {"code": link_code(delivered, "+919000000001")}).status_code == 200

    primary = storefront.post("profile/v1.0/mobile/primary", {"country_code": "91", "phone": "9000000001",
                                                              "verified": True, "active": True, "primary": False})
    assert primary.status_code == 200, primary.content
    assert phones_of(customer) == {PHONE: (False, True), "+919000000001": (True, True)}
    removed = delete(storefront, "profile/v1.0/mobile", {"active": "true", "primary": "false", "verified": "true",
                                                          "country_code": "91", "phone": "9876543210"})
    assert removed.status_code == 200, removed.content
    assert [p["phone"] for p in removed.json()["user"]["phone_numbers"]] == ["9000000001"]
    assert AuditEvent.objects.filter(customer_id=customer.id, action="contact.removed",
                                     data__phone=PHONE).exists()


def test_email_primary_and_delete(storefront, visitor, delivered, customer):
    put(storefront, "profile/v1.0/email", {"email": "second@example.com"})
    visitor.post("authentication/v1.0/verify/email", {"code": link_code(delivered, "second@example.com")})
    assert storefront.post("profile/v1.0/email/primary", {"email": "second@example.com"}).status_code == 200
    assert emails_of(customer) == {"asha@example.com": (False, False), "second@example.com": (True, True)}
    assert_error(delete(storefront, "profile/v1.0/email", {"email": "second@example.com"}), 400,
                 "make another one primary first")
    response = delete(storefront, "profile/v1.0/email", {"active": "true", "primary": "false", "verified": "false",
                                                          "email": "asha@example.com"})
    assert response.status_code == 200, response.content
    assert [e["email"] for e in response.json()["user"]["emails"]] == ["second@example.com"]
    # The last email: the default config does not require one.
    assert delete(storefront, "profile/v1.0/email", {"email": "second@example.com"}).status_code == 200
    assert emails_of(customer) == {}


def test_the_last_contact_a_store_requires_stays(storefront, delivered, customer, platform_config):
    assert_error(delete(storefront, "profile/v1.0/mobile", {"country_code": "91", "phone": "9876543210"}), 400,
                 "requires an mobile")
    platform_config(required_fields={"email": {"is_required": True, "level": "soft"},
                                     "mobile": {"is_required": False, "level": "soft"},
                                     "password": {"is_required": True}})
    assert_error(delete(storefront, "profile/v1.0/email", {"email": "asha@example.com"}), 400, "requires an email")
    assert delete(storefront, "profile/v1.0/mobile", {"country_code": "91", "phone": "9876543210"}).status_code == 200
    assert phones_of(customer) == {}


def test_contacts_are_unique_among_live_customers_and_another_customers_are_out_of_reach(
        storefront, delivered, customer, application):
    other = other_customer(application)
    assert_error(put(storefront, "profile/v1.0/email", {"email": "bala@example.com"}), 409, "Already used")
    assert_error(put(storefront, "profile/v1.0/mobile", {"country_code": "91", "phone": "9123456789"}), 409,
                 "Already used")
    assert_error(delete(storefront, "profile/v1.0/email", {"email": "bala@example.com"}), 404, "not one of your")
    assert_error(storefront.post("profile/v1.0/email/primary", {"email": "bala@example.com"}), 404, "not one of your")
    assert_error(storefront.post("profile/v1.0/email/link/send", {"email": "bala@example.com"}), 404,
                 "not one of your")
    assert emails_of(other) == {"bala@example.com": (True, False)} and not delivered.emails_to("bala@example.com")
    customer_services.archive_customer(application, other.id, Actor("system", "", "test"))
    assert put(storefront, "profile/v1.0/email", {"email": "bala@example.com"}).status_code == 200


def test_verification_links_expire_and_die_with_the_account(storefront, visitor, delivered, customer, settings,
                                                            application):
    sent = storefront.post("profile/v1.0/email/link/send", {"email": "asha@example.com"})
    assert sent.status_code == 200 and sent.json() == {"verify_email_link": True}
    first = link_code(delivered, "asha@example.com")
    customer_services.set_customers_active(application, [customer.id], False, "test", Actor("system", "", "test"))
    assert_error(visitor.post("authentication/v1.0/verify/email", {"code": first}), 400, "invalid")
    customer_services.set_customers_active(application, [customer.id], True, "test", Actor("system", "", "test"))
    assert_error(visitor.post("authentication/v1.0/verify/email", {"code": first}), 400, "already used")

    storefront.client.cookies.clear()
    storefront.post("authentication/v1.0/login/password", {"username": PHONE, "password": PASSWORD})
    settings.VERIFY_LINK_TTL_SECONDS = 1
    storefront.post("profile/v1.0/email/link/send", {"email": "asha@example.com"})
    expired = link_code(delivered, "asha@example.com")
    time.sleep(1.2)
    assert_error(visitor.post("authentication/v1.0/verify/email", {"code": expired}), 400, "expired")
    assert emails_of(customer)["asha@example.com"] == (True, False)
    assert_error(visitor.post("authentication/v1.0/verify/email", {"code": ""}), 400, "code is required")


def test_a_verified_contact_gets_no_link(storefront, delivered, customer):
    response = storefront.post("profile/v1.0/mobile/link/send", {"country_code": "91", "phone": "9876543210"})
    assert response.status_code == 200 and response.json() == {"verify_mobile_link": False}


def test_contact_operations_need_the_session(visitor, delivered, customer):
    assert put(visitor, "profile/v1.0/email", {"email": "x@example.com"}).status_code == 401
    assert visitor.post("profile/v2.0/email/otp/send", {"email": "x@example.com"}).status_code == 401


# ----------------------------------------------------------------------------- v2.0

def prove_primary(storefront, delivered):
    sent = storefront.post("profile/v2.0/mobile/primary/otp/send", {"mobile": "9876543210", "country_code": "91"})
    assert sent.status_code == 200, sent.content
    assert sent.json()["mobile"] == "9876543210" and sent.json()["resend_timer"] > 0
    return storefront.post("profile/v2.0/mobile/primary/otp/verify",
                           {"request_id": sent.json()["request_id"], "otp": delivered.code_for(PHONE)})


def test_v2_changes_the_primary_email_only_after_the_primary_is_re_verified(storefront, delivered, customer,
                                                                            application):
    refused = storefront.post("profile/v2.0/email/otp/send", {"email": "new@example.com"})
    assert_error(refused, 403, "Verify your primary")
    assert not delivered.emails_to("new@example.com")

    proof = prove_primary(storefront, delivered)
    assert proof.status_code == 200, proof.content
    assert proof.json()["user_exists"] is True and proof.json()["user"]["_id"] == customer.id

    other_customer(application)
    assert_error(storefront.post("profile/v2.0/email/otp/send", {"email": "bala@example.com"}), 409, "Already used")
    sent = storefront.post("profile/v2.0/email/otp/send", {"email": "new@example.com"})
    assert sent.status_code == 200 and sent.json()["request_id"], sent.content
    wrong = storefront.post("profile/v2.0/email/otp/verify", {"email": "new@example.com", "otp": "000000"
                                                              if delivered.code_for("new@example.com") != "000000"
                                                              else "111111"})
    assert_error(wrong, 400, "The code is wrong")
    done = storefront.post("profile/v2.0/email/otp/verify",
                           {"email": "new@example.com", "otp": delivered.code_for("new@example.com")})
    assert done.status_code == 200, done.content
    assert done.json()["user_exists"] is True
    assert done.json()["user"]["emails"][0] == {"email": "new@example.com", "primary": True, "verified": True,
                                                "active": True}
    assert emails_of(customer) == {"asha@example.com": (False, False), "new@example.com": (True, True)}

    # The proof is spent by the change.
    assert_error(storefront.post("profile/v2.0/email/otp/send", {"email": "third@example.com"}), 403,
                 "Verify your primary")


def test_v2_the_proof_belongs_to_its_session_and_codes_are_checked(storefront, delivered, customer, application,
                                                                   django_capture_on_commit_callbacks):
    assert_error(storefront.post("profile/v2.0/mobile/primary/otp/send", {"mobile": "9000000009",
                                                                           "country_code": "91"}),
                 400, "is not your primary")
    assert_error(storefront.post("profile/v2.0/phone/primary/otp/send", {}), 400, "entity must be")
    sent = storefront.post("profile/v2.0/mobile/primary/otp/send", {})
    bad = storefront.post("profile/v2.0/mobile/primary/otp/verify", {"request_id": sent.json()["request_id"],
                                                                      "otp": "x"})
    assert_error(bad, 400, "The code is wrong")
    assert storefront.post("profile/v2.0/mobile/primary/otp/verify", {
        "request_id": sent.json()["request_id"], "otp": delivered.code_for(PHONE)}).status_code == 200

    elsewhere = Storefront(application, django_capture_on_commit_callbacks)
    assert elsewhere.post("authentication/v1.0/login/password", {"username": PHONE,
                                                                 "password": PASSWORD}).status_code == 200
    assert_error(elsewhere.post("profile/v2.0/mobile/otp/send", {"mobile": "9000000002", "country_code": "91"}),
                 403, "Verify your primary")

    sent = storefront.post("profile/v2.0/mobile/otp/send", {"mobile": "9000000002", "country_code": "91"})
    assert sent.status_code == 200 and sent.json()["mobile"] == "9000000002", sent.content
    mismatch = storefront.post("profile/v2.0/email/otp/verify", {"request_id": sent.json()["request_id"],
                                                                 "otp": delivered.code_for("+919000000002")})
    assert_error(mismatch, 400, "not an email")
    sent = storefront.post("profile/v2.0/mobile/otp/send", {"mobile": "9000000003", "country_code": "91"})
    done = storefront.post("profile/v2.0/mobile/otp/verify", {"request_id": sent.json()["request_id"],
                                                              "otp": delivered.code_for("+919000000003")})
    assert done.status_code == 200, done.content
    assert phones_of(customer) == {PHONE: (False, True), "+919000000003": (True, True)}
