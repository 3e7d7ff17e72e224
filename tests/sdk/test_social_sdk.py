"""The official Fynd JavaScript SDK's social sign-in methods (tests/sdk/social.test.js) against the live
service, whose provider URLs point at the local stand-in provider (tests/oauth_provider.py)."""

import hashlib
import json

import pytest

from tests.delivery import clear_account_keys
from tests.oauth_provider import oauth_provider
from tests.sdk.runner import run_sdk_script
from users.models import LinkedIdentity

STEPS = 6
GOOGLE_IDS = "web.apps.googleusercontent.com ios.apps.googleusercontent.com"
APPLE_ID = "com.example.shop"


@pytest.fixture(autouse=True)
def fresh_account_keys():
    clear_account_keys()
    yield
    clear_account_keys()


def test_fynd_javascript_sdk_social_sign_in(live_server, transactional_db, settings):
    with oauth_provider() as provider:
        settings.GOOGLE_JWKS_URL = provider.url + "/google/certs"
        settings.APPLE_JWKS_URL = provider.url + "/apple/keys"
        settings.FACEBOOK_GRAPH_URL = provider.url + "/graph"
        settings.SOCIAL_ALLOWED_HOSTS = ["localhost"]
        provider.facebook_apps["4242"] = "fb-s3cret"
        provider.facebook_tokens["EAAB-eve"] = {"app_id": "4242", "user_id": "fb-1", "me": {
            "id": "fb-1", "email": "eve@example.com", "first_name": "Eve", "last_name": "Nair"}}
        nonce = "nonce-of-the-app"
        google = dict(iss="https://accounts.google.com", sub="g-1", email="asha@example.com")
        social = {
            "google_client_ids": GOOGLE_IDS, "apple_client_id": APPLE_ID,
            "facebook_app_id": "4242", "facebook_secret": "fb-s3cret", "facebook_token": "EAAB-eve",
            "google_id_token": provider.id_token(aud="ios.apps.googleusercontent.com", **google),
            "google_other_aud": provider.id_token(aud="other.apps.googleusercontent.com", **google),
            "apple_token": provider.id_token(iss="https://appleid.apple.com", aud=APPLE_ID, sub="001234.abcdef",
                                             email="dev@privaterelay.appleid.com", email_verified="true",
                                             nonce=hashlib.sha256(nonce.encode()).hexdigest()),
            "apple_nonce": nonce,
        }
        result = run_sdk_script(live_server, "social.test.js", "sdk social", {"FDK_SOCIAL": json.dumps(social)})
    assert "FAIL" not in result.stdout and f"all {STEPS} steps passed" in result.stdout, result.stdout
    assert sorted(LinkedIdentity.objects.values_list("provider", flat=True)) == ["apple", "facebook", "google"]
