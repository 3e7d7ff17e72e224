"""Social sign-in (loginWithGoogle*, loginWithFacebook, loginWithAppleIOS) against a local stand-in provider
(tests/oauth_provider.py: a real HTTP server with its own RSA keys, JWKS, tokeninfo, debug_token, /me)."""

import hashlib

import pytest

from accounts import keyspace, limits
from accounts import services as account_services
from core import outbound
from core.actors import Actor
from tests.helpers import assert_error
from tests.oauth_provider import new_key, oauth_provider
from users import services as customer_services
from users.models import AuditEvent, Customer, LinkedIdentity

GOOGLE_ISS = "https://accounts.google.com"
WEB, ANDROID = "web-client.apps.googleusercontent.com", "android-client.apps.googleusercontent.com"
APPLE_ID = "com.example.shop"
FB_APP, FB_SECRET = "1234567890", "fb-app-s3cret"
GOOGLE_PATH = "authentication/v1.0/login/google-token"
APPLE_PATH = "authentication/v1.0/login/apple-ios"
FACEBOOK_PATH = "authentication/v1.0/login/facebook-token"


@pytest.fixture
def provider(settings):
    with oauth_provider() as stand_in:
        settings.GOOGLE_JWKS_URL = stand_in.url + "/google/certs"
        settings.GOOGLE_TOKENINFO_URL = stand_in.url + "/google/tokeninfo"
        settings.APPLE_JWKS_URL = stand_in.url + "/apple/keys"
        settings.FACEBOOK_GRAPH_URL = stand_in.url + "/graph"
        settings.SOCIAL_ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
        settings.SOCIAL_TIMEOUT_SECONDS = 1.0
        settings.SOCIAL_JWKS_LOCAL_SECONDS = 0  # every sign-in reads Redis's copy (one test turns it on)
        stand_in.facebook_apps[FB_APP] = FB_SECRET
        yield stand_in


@pytest.fixture
def social(platform_config):
    """Google, Facebook and Apple on, with their client ids; sign-up needs no mobile."""
    return platform_config(
        social={"google": True, "facebook": True, "apple": True},
        social_tokens={"google": {"app_id": f"{WEB}, {ANDROID}"}, "facebook": {"app_id": FB_APP, "app_secret": FB_SECRET},
                       "apple": {"app_id": f"com.example.other {APPLE_ID}"}},
        register_required_fields={"mobile": {"is_required": False, "level": "hard"},
                                  "email": {"is_required": False, "level": "hard"}})


def google_token(provider, sub="g-1", email="asha@example.com", **claims):
    claims.setdefault("aud", WEB)
    claims.setdefault("iss", GOOGLE_ISS)
    return provider.id_token(sub=sub, email=email, given_name="Asha", family_name="Rao", **claims)


def google(storefront, token, path=GOOGLE_PATH):
    return storefront.post(path + "?platform=" + storefront.application.id,
                           {"oauth2": {"access_token": token, "expiry": 3600}, "is_signed_in": True,
                            "profile": {"email": "someone-else@example.com", "id": "spoofed"}})


def identities(application):
    return list(LinkedIdentity.objects.filter(application=application).values_list("provider", "subject", "customer_id"))


# ----------------------------------------------------------------------------- Google ID tokens

def test_a_google_id_token_signs_up_then_in_and_the_cookie_works(storefront, provider, social, application, api, url):
    response = google(storefront, google_token(provider))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["user_exists"] is False and "register_token" not in body
    user = body["user"]
    assert user["first_name"] == "Asha" and user["last_name"] == "Rao"
    assert user["emails"] == [{"email": "asha@example.com", "active": True, "primary": True, "verified": True}]
    assert response.cookies["f.session"]["httponly"] and storefront.signed_in
    me = storefront.get("authentication/v1.0/session")
    assert me.status_code == 200 and me.json()["user"]["_id"] == user["_id"]
    assert identities(application) == [("google", "g-1", user["_id"])]  # the client's profile was not used

    storefront.client.cookies.clear()
    again = google(storefront, google_token(provider), path="authentication/v1.0/login/google-android")
    assert again.status_code == 200, again.content
    assert again.json()["user_exists"] is True and again.json()["user"]["_id"] == user["_id"]
    ios = google(storefront, google_token(provider, aud=ANDROID), path="authentication/v1.0/login/google-ios")
    assert ios.status_code == 200 and ios.json()["user"]["_id"] == user["_id"]  # any configured client id
    actions = list(AuditEvent.objects.filter(customer_id=user["_id"]).values_list("action", "data"))
    assert ("identity.linked", {"provider": "google", "subject": "g-1", "email": "asha@example.com"}) in actions
    assert [d["method"] for a, d in actions if a == "account.signed_in"] == ["google"] * 3
    assert provider.hits["/google/certs"] == 1  # the keys were fetched once for three sign-ins

    shown = api.get(url(f"customers/{user['_id']}")).json()["user"]
    assert [(i["provider"], i["subject"]) for i in shown["meta"]["linked_identities"]] == [("google", "g-1")]


@pytest.mark.parametrize("case, message", [
    ("bad signature", "signature is wrong"),
    ("wrong audience", "issued for another app"),
    ("wrong issuer", "not issued by Google"),
    ("expired", "has expired"),
    ("HS256", "must be signed with RS256"),
    ("garbage", "not a signed token"),
])
def test_a_bad_google_id_token_is_refused(storefront, provider, social, application, case, message):
    token = {
        "bad signature": lambda: google_token(provider, key=new_key(), kid=provider.kid),
        "wrong audience": lambda: google_token(provider, aud="someone-elses.apps.googleusercontent.com"),
        "wrong issuer": lambda: google_token(provider, iss="https://evil.example.com"),
        "expired": lambda: google_token(provider, expires_in=-3600),
        "HS256": lambda: google_token(provider, algorithm="HS256"),
        "garbage": lambda: "not.a.jwt",
    }[case]()
    response = google(storefront, token)
    assert_error(response, 401, message)
    assert response.json()["code"] == "social_token_invalid"
    assert not storefront.signed_in and not Customer.objects.filter(application=application).exists()


def test_an_unknown_kid_refetches_the_keys_once(storefront, provider, social, settings):
    assert google(storefront, google_token(provider)).status_code == 200
    provider.rotate()  # the provider's new key: tokens name a kid the cache does not have
    storefront.client.cookies.clear()
    response = google(storefront, google_token(provider))
    assert response.status_code == 200, response.content
    assert provider.hits["/google/certs"] == 2

    # a kid nobody publishes: refused without a refetch while the last refresh is recent (the rotation's) …
    assert_error(google(storefront, google_token(provider, kid="made-up", key=new_key())), 401, "does not publish")
    assert provider.hits["/google/certs"] == 2
    for key in keyspace.connection().scan_iter(match=keyspace.PREFIX + "jwksr:*"):
        keyspace.connection().delete(key)  # … SOCIAL_JWKS_REFRESH_SECONDS later: one refetch, then none
    for _ in range(3):
        assert_error(google(storefront, google_token(provider, kid="made-up", key=new_key())), 401,
                     "does not publish")
    assert provider.hits["/google/certs"] == 3


def test_a_process_keeps_the_keys_a_few_seconds_without_asking_redis(storefront, provider, social, settings):
    settings.SOCIAL_JWKS_LOCAL_SECONDS = 30
    assert google(storefront, google_token(provider)).status_code == 200
    for key in keyspace.connection().scan_iter(match=keyspace.PREFIX + "jwks*"):
        keyspace.connection().delete(key)  # Redis's copy gone: the process still knows the key
    storefront.client.cookies.clear()
    assert google(storefront, google_token(provider)).status_code == 200
    assert provider.hits["/google/certs"] == 1
    provider.rotate()  # a kid the process does not know: Redis, then the provider, are asked at once
    storefront.client.cookies.clear()
    assert google(storefront, google_token(provider)).status_code == 200
    assert provider.hits["/google/certs"] == 2


def test_the_jwks_cache_follows_max_age(storefront, provider, social, settings):
    from accounts.social import jwks

    assert jwks.lifetime("public, max-age=19845, must-revalidate") == 19845
    assert jwks.lifetime("") == settings.SOCIAL_JWKS_DEFAULT_SECONDS
    assert jwks.lifetime("no-store") == settings.SOCIAL_JWKS_MIN_SECONDS
    assert jwks.lifetime("max-age=99999999") == settings.SOCIAL_JWKS_MAX_SECONDS
    provider.cache_control = "max-age=120"
    assert google(storefront, google_token(provider)).status_code == 200
    [key] = list(keyspace.connection().scan_iter(match=keyspace.PREFIX + "jwks:*"))
    assert 100 < keyspace.connection().ttl(key) <= 120


def test_provider_switched_off_or_not_configured(storefront, provider, platform_config):
    response = google(storefront, google_token(provider))
    assert_error(response, 403, "turned off")
    assert response.json()["code"] == "social_login_disabled"
    platform_config(social={"google": True, "facebook": True})
    response = google(storefront, google_token(provider))
    assert_error(response, 403, "not set up")
    assert response.json()["code"] == "social_login_not_configured"
    platform_config(social_tokens={"facebook": {"app_id": FB_APP}})  # no secret: not set up either
    assert storefront.post(FACEBOOK_PATH, {"oauth2": {"access_token": "x"}}).json()["code"] == \
        "social_login_not_configured"
    assert provider.hits.total() == 0


def test_a_missing_token_is_a_400(storefront, provider, social):
    assert_error(storefront.post(GOOGLE_PATH, {"oauth2": {"access_token": ""}}), 400, "oauth2.access_token is required")
    assert_error(storefront.post(APPLE_PATH, {"oauth": {}}), 400, "oauth.identity_token is required")
    assert_error(storefront.post(GOOGLE_PATH, {"oauth2": "nope"}), 400, "oauth2")


def test_a_failing_or_slow_provider_is_a_502(storefront, provider, social, settings):
    provider.status = 500
    response = google(storefront, google_token(provider))
    assert_error(response, 502, "could not be reached")
    assert response.json()["code"] == "provider_unavailable"
    provider.status, provider.delay = None, 3.0
    settings.SOCIAL_TIMEOUT_SECONDS = 0.5
    response = google(storefront, google_token(provider))
    assert_error(response, 502, "could not be reached")
    settings.SOCIAL_ALLOWED_HOSTS = []  # a provider URL on a private address that is not allowed: refused
    provider.delay = 0
    response = google(storefront, google_token(provider))
    assert_error(response, 502, "SOCIAL_ALLOWED_HOSTS")


# ----------------------------------------------------------------------------- Google access tokens

def test_a_google_access_token_is_checked_with_tokeninfo(storefront, provider, social, application):
    provider.access_tokens["ya29.good"] = {"azp": ANDROID, "aud": ANDROID, "sub": "g-7", "email": "bo@example.com",
                                           "email_verified": "true", "expires_in": "3599", "scope": "openid email"}
    provider.access_tokens["ya29.other-app"] = {**provider.access_tokens["ya29.good"], "azp": "x", "aud": "x"}
    response = google(storefront, "ya29.good")
    assert response.status_code == 200, response.content
    assert response.json()["user"]["emails"][0] == {"email": "bo@example.com", "active": True, "primary": True,
                                                   "verified": True}
    assert provider.requests[-1] == ("/google/tokeninfo", {"access_token": "ya29.good"})
    assert_error(google(storefront, "ya29.other-app"), 401, "issued for another app")
    assert_error(google(storefront, "ya29.revoked"), 401, "does not accept the access token")


# ----------------------------------------------------------------------------- linking

def test_a_verified_email_links_to_the_existing_customer(storefront, provider, social, application, create_customer):
    existing = create_customer(email="asha@example.com", first_name="Asha")
    response = google(storefront, google_token(provider, email="Asha@Example.com"))
    assert response.status_code == 200, response.content
    assert response.json()["user_exists"] is True and response.json()["user"]["_id"] == existing["_id"]
    assert response.json()["user"]["emails"][0]["verified"] is True  # the provider proved it
    assert identities(application) == [("google", "g-1", existing["_id"])]
    assert Customer.objects.filter(application=application).count() == 1


def test_an_unverified_email_never_links_nor_creates(storefront, provider, social, application, create_customer):
    existing = create_customer(email="asha@example.com")
    response = google(storefront, google_token(provider, email="asha@example.com", email_verified=False))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["user_exists"] is False and body["register_token"] and "user" not in body
    assert not storefront.signed_in and identities(application) == []
    assert Customer.objects.filter(application=application).count() == 1
    # registerWithForm with that token cannot take the other customer's email either
    taken = storefront.post("authentication/v1.0/register/form", {
        "register_token": body["register_token"], "email": "asha@example.com", "password": "Correct-horse-9"})
    assert taken.status_code == 409, taken.content
    assert identities(application) == [] and existing


def test_a_required_mobile_gets_a_register_token_that_register_with_form_finishes(
        storefront, provider, social, platform_config, application):
    platform_config(register_required_fields={"mobile": {"is_required": True, "level": "soft"}})
    body = google(storefront, google_token(provider)).json()
    assert body["user_exists"] is False and body["register_token"] and not storefront.signed_in
    assert not Customer.objects.filter(application=application).exists()
    done = storefront.post("authentication/v1.0/register/form", {
        "register_token": body["register_token"], "first_name": "Asha", "password": "Correct-horse-9",
        "phone": {"country_code": "91", "mobile": "9876543210"}})
    assert done.status_code == 200, done.content
    assert storefront.signed_in
    customer = Customer.objects.get(application=application)
    assert list(customer.emails.values_list("email", "verified")) == [("asha@example.com", True)]
    assert identities(application) == [("google", "g-1", customer.id)]
    storefront.client.cookies.clear()
    again = google(storefront, google_token(provider))
    assert again.status_code == 200 and again.json()["user"]["_id"] == customer.id and storefront.signed_in


def test_registration_closed_refuses_an_unknown_identity(storefront, provider, social, platform_config, application):
    platform_config(register=False)
    assert_error(google(storefront, google_token(provider)), 403, "sign-up is closed")
    assert not Customer.objects.filter(application=application).exists()


def test_blocked_or_archived_customers_are_refused(storefront, provider, social, api, url):
    user = google(storefront, google_token(provider)).json()["user"]
    storefront.client.cookies.clear()
    api.put(url("customers/activation"), {"user_id": [user["_id"]], "status": False, "reason": "fraud"}, format="json")
    response = google(storefront, google_token(provider))
    assert_error(response, 403, "cannot sign in")
    assert response.json()["code"] == "account_unavailable" and not storefront.signed_in
    api.put(url("customers/activation"), {"user_id": [user["_id"]], "status": True, "reason": "ok"}, format="json")
    assert google(storefront, google_token(provider)).status_code == 200
    storefront.client.cookies.clear()
    api.put(url("customers/archive"), {"user_id": user["_id"]}, format="json")
    assert_error(google(storefront, google_token(provider)), 403, "cannot sign in")


def test_a_customer_locked_out_from_everywhere_is_refused_until_unlocked(storefront, provider, social, application,
                                                                         platform_config):
    policy = {"enable": True, "attempts": 2, "duration": 10}
    platform_config(account_lockout=policy)
    user = google(storefront, google_token(provider)).json()["user"]
    storefront.client.cookies.clear()
    for n in range(6):  # 3 × 2 wrong passwords from three addresses: the customer's own lock
        limits.lockout.failed("password", application.id, user["_id"], "asha@example.com", f"10.0.0.{n // 2}", policy)
    response = google(storefront, google_token(provider))
    assert_error(response, 403, "Too many failed attempts")
    assert response.json()["code"] == "account_locked" and not storefront.signed_in
    assert account_services.unlock(application, user["_id"], Actor.system("tests"))
    assert google(storefront, google_token(provider)).status_code == 200 and storefront.signed_in


def test_staff_unlink_an_identity_through_the_service(storefront, provider, social, application, api, url,
                                                      staff_client):
    user = google(storefront, google_token(provider, email_verified=False, email="")).json()
    assert user["register_token"]  # no verified email: nothing to create the customer with
    created = google(storefront, google_token(provider, sub="g-2", email="cy@example.com")).json()["user"]
    page = staff_client.get(f"/admin/users/customer/{created['_id']}/change/")
    assert page.status_code == 200 and b"g-2" in page.content and b"linked sign-in identities" in page.content.lower()
    listing = staff_client.get(f"/admin/users/linkedidentity/?customer_id={created['_id']}")
    assert listing.status_code == 200 and b"g-2" in listing.content
    identity = LinkedIdentity.objects.get(subject="g-2")
    unlinked = staff_client.post("/admin/users/linkedidentity/", {"action": "unlink_identities",
                                                                "_selected_action": [identity.pk]})
    assert unlinked.status_code in (200, 302)
    assert identities(application) == []
    assert AuditEvent.objects.filter(customer_id=created["_id"], action="identity.unlinked").exists()
    with pytest.raises(Exception) as missing:
        customer_services.unlink_identity(application, created["_id"], "google", "g-2", Actor.system("test"))
    assert getattr(missing.value, "status_code", None) == 404
    shown = api.get(url(f"customers/{created['_id']}")).json()["user"]
    assert "linked_identities" not in shown["meta"]  # shown only when there are any


# ----------------------------------------------------------------------------- Apple

def apple_token(provider, **claims):
    claims.setdefault("aud", APPLE_ID)
    claims.setdefault("iss", "https://appleid.apple.com")
    return provider.id_token(sub="001234.abcdef", email="x1y2@privaterelay.appleid.com", email_verified="true",
                             **claims)


def test_apple_with_a_nonce(storefront, provider, social, application):
    nonce = "a-random-nonce-of-the-app"
    hashed = hashlib.sha256(nonce.encode()).hexdigest()
    wrong = storefront.post(APPLE_PATH, {"oauth": {"identity_token": apple_token(provider, nonce=hashed),
                                                   "nonce": "another-nonce"}})
    assert_error(wrong, 401, "nonce")
    response = storefront.post(APPLE_PATH + "?platform=x", {
        "user_identifier": "001234.abcdef", "oauth": {"identity_token": apple_token(provider, nonce=hashed),
                                                      "nonce": nonce},
        "profile": {"first_name": "Dev", "last_name": "Iyer", "full_name": "Dev Iyer"}})
    assert response.status_code == 200, response.content
    user = response.json()["user"]
    assert (user["first_name"], user["last_name"]) == ("Dev", "Iyer")  # Apple gives names to the app only
    assert user["emails"][0]["email"] == "x1y2@privaterelay.appleid.com"
    assert identities(application) == [("apple", "001234.abcdef", user["_id"])]
    assert provider.hits["/apple/keys"] == 1
    assert_error(storefront.post(APPLE_PATH, {"oauth": {"identity_token": apple_token(provider, aud=WEB)}}), 401,
                 "another app")
    assert_error(storefront.post(APPLE_PATH, {"oauth": {"identity_token": google_token(provider, aud=APPLE_ID)}}),
                 401, "not issued by Apple")


def test_the_apple_client_id_is_stored_shown_to_the_storefront_and_not_to_the_platform_api(
        storefront, social, api, url):
    platform = api.get(url("platform/config")).json()
    assert "apple" not in platform["social_tokens"]
    shown = storefront.get("platform/v1.0/config").json()
    assert shown["social_tokens"]["apple"] == {"app_id": f"com.example.other {APPLE_ID}"}
    assert shown["social_tokens"]["facebook"] == {"app_id": FB_APP}
    bad = api.post(url("platform/config"), {"social_tokens": {"apple": {"app_secret": "x"}}}, format="json")
    assert bad.status_code == 400 and "social_tokens.apple.app_secret" in bad.json()["message"]


# ----------------------------------------------------------------------------- Facebook

def test_facebook_debug_token_then_me(storefront, provider, social, application):
    provider.facebook_tokens["EAAB-good"] = {"app_id": FB_APP, "user_id": "fb-42", "me": {
        "id": "fb-42", "email": "eve@example.com", "first_name": "Eve", "last_name": "Nair"}}
    provider.facebook_tokens["EAAB-other-app"] = {**provider.facebook_tokens["EAAB-good"], "app_id": "999"}
    provider.facebook_tokens["EAAB-expired"] = {**provider.facebook_tokens["EAAB-good"], "is_valid": False}
    response = storefront.post(FACEBOOK_PATH, {"oauth2": {"access_token": "EAAB-good"}})
    assert response.status_code == 200, response.content
    user = response.json()["user"]
    assert (user["first_name"], user["emails"][0]["email"], user["emails"][0]["verified"]) == \
        ("Eve", "eve@example.com", True)
    assert identities(application) == [("facebook", "fb-42", user["_id"])]
    debug = [q for p, q in provider.requests if p == "/graph/debug_token"][0]
    assert debug["access_token"] == f"{FB_APP}|{FB_SECRET}" and debug["input_token"] == "EAAB-good"
    assert_error(storefront.post(FACEBOOK_PATH, {"oauth2": {"access_token": "EAAB-other-app"}}), 401, "another app")
    assert_error(storefront.post(FACEBOOK_PATH, {"oauth2": {"access_token": "EAAB-expired"}}), 401,
                 "does not accept")
    assert_error(storefront.post(FACEBOOK_PATH, {"oauth2": {"access_token": "EAAB-unknown"}}), 401,
                 "does not accept")
    provider.facebook_apps[FB_APP] = "rotated-secret"  # the store's secret is stale: the provider refuses us
    assert_error(storefront.post(FACEBOOK_PATH, {"oauth2": {"access_token": "EAAB-good"}}), 502, "app id or secret")


# ----------------------------------------------------------------------------- rate limits

def test_one_address_is_limited_before_the_provider_is_asked_and_for_tokens_checked_here(
        storefront, provider, social, settings):
    """Per client IP: every attempt counts, good or bad, checked here (Google ID tokens) or by the provider
    (Facebook); once over, the provider is not asked again."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "social": (3, 30, 900)}
    assert_error(google(storefront, google_token(provider, aud="someone-else")), 401, "another app")
    assert google(storefront, google_token(provider, sub="g-1")).status_code == 200
    provider.facebook_tokens["EAAB-good"] = {"app_id": FB_APP, "user_id": "fb-1", "me": {"id": "fb-1"}}
    assert storefront.post(FACEBOOK_PATH, {"oauth2": {"access_token": "EAAB-good"}}).status_code == 200
    asked = len(provider.requests)
    limited = storefront.post(FACEBOOK_PATH, {"oauth2": {"access_token": "EAAB-good"}})
    assert_error(limited, 429, code="rate_limited")
    assert int(limited["Retry-After"]) > 0
    assert len(provider.requests) == asked  # refused before asking Facebook
    assert_error(google(storefront, google_token(provider, sub="g-1")), 429, code="rate_limited")
    assert_error(google(storefront, "not-a-token"), 429, code="rate_limited")


def test_one_provider_account_is_limited_from_any_address(storefront, provider, social, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "social": (100, 2, 900)}
    token = google_token(provider, sub="g-7")
    for n in range(2):
        assert google(storefront, token).status_code == 200
    assert_error(google(storefront, token), 429, code="rate_limited")
    assert google(storefront, google_token(provider, sub="g-8", email="other@example.com")).status_code == 200


# ----------------------------------------------------------------------------- the guarded client

def test_outbound_refuses_private_hosts_and_reads_at_most_max_bytes(provider):
    from core.files.downloads import DownloadError

    with pytest.raises(DownloadError):
        outbound.request("GET", provider.url + "/google/certs", setting="X", allowed_hosts=[], connect_timeout=1,
                         timeout=1, max_bytes=100)
    answer = outbound.request("GET", provider.url + "/google/certs", setting="X", allowed_hosts=["localhost"],
                              connect_timeout=1, timeout=2, max_bytes=100)
    assert answer.status == 200 and len(answer.body) == 100 and answer.complete is False
    assert answer.headers["cache-control"] == "public, max-age=3600"
    provider.delay = 2
    with pytest.raises(outbound.Unreachable):
        outbound.request("GET", provider.url + "/google/certs", setting="X", allowed_hosts=["localhost"],
                         connect_timeout=1, timeout=0.3, max_bytes=100)
