"""Nothing crosses applications: a customer of one store never signs in at another, one store's token
never works at another, and a session of one store is not a session of another."""

import base64

from rest_framework.test import APIClient

from core.tenancy import services as core_services
from tests.accounts.conftest import Storefront
from tests.helpers import COMPANY_ID

PASSWORD = "Correct-horse-9"


def test_customers_codes_and_tokens_stay_in_their_application(storefront, delivered, django_capture_on_commit_callbacks,
                                                              platform_config):
    platform_config(register_required_fields={"email": {"is_required": True, "level": "soft"},
                                              "mobile": {"is_required": False, "level": "soft"},
                                              "password": {"is_required": True}})
    signed_up = storefront.post("authentication/v1.0/register/form", {"email": "asha@example.com",
                                                                       "password": PASSWORD})
    assert signed_up.status_code == 200 and storefront.signed_in
    cookie = storefront.client.cookies["f.session"].value

    other, other_token = core_services.create_application(company_id=COMPANY_ID, name="Second Store")
    other.storefront_token = other_token
    elsewhere = Storefront(other, django_capture_on_commit_callbacks)
    refused = elsewhere.post("authentication/v1.0/login/password", {"username": "asha@example.com",
                                                                     "password": PASSWORD})
    assert refused.status_code == 401
    assert elsewhere.get("authentication/v1.0/user-exists", {"q": "asha@example.com"}).json() == {"user_exists": False}

    # A code sent by one store does not verify at the other.
    sent = storefront.post("authentication/v1.0/otp/email/send", {"email": "asha@example.com"})
    assert sent.status_code == 200
    code = delivered.code_for("asha@example.com")
    assert elsewhere.post("authentication/v1.0/otp/email/verify",
                          {"email": "asha@example.com", "otp": code}).status_code == 400

    # Store A's token with store B's id, and A's session cookie at B: refused.
    mixed = APIClient()
    raw = f"{other.id}:{storefront.application.storefront_token}"
    mixed.credentials(HTTP_AUTHORIZATION="Bearer " + base64.b64encode(raw.encode()).decode())
    assert mixed.post("/service/application/user/authentication/v1.0/login/password",
                      {"username": "asha@example.com", "password": PASSWORD}, format="json").status_code == 401
    elsewhere.client.cookies["f.session"] = cookie
    assert elsewhere.get("authentication/v1.0/session").status_code == 401
    assert elsewhere.get("authentication/v1.0/has-password").status_code == 401
