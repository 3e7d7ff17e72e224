"""Rate limits, the client IP and account lockout (accounts.limits) on the real Redis of the test session."""

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from accounts import keyspace, limits
from accounts.limits import RateLimited, lockout

POLICY = {"enable": True, "attempts": 3, "duration": 1}
EMAIL = "shopper@example.com"


@pytest.fixture
def app_id():
    return uuid.uuid4().hex[:24]


@pytest.fixture
def customer_id():
    return uuid.uuid4().hex[:24]


# ----------------------------------------------------------------------------- rate limits

def test_hit_allows_the_limit_then_refuses_until_the_window_ends():
    key = uuid.uuid4().hex
    for _ in range(3):
        limits.hit("test", key, 3, 60)
    with pytest.raises(RateLimited) as caught:
        limits.hit("test", key, 3, 60)
    assert 59 <= caught.value.retry_after <= 60
    limits.hit("test", uuid.uuid4().hex, 3, 60)  # another key has its own count
    counter = keyspace.key("rl", "test", keyspace.digest(key))
    assert 0 < keyspace.connection().ttl(counter) <= 60


def test_check_counts_per_ip_and_per_identifier(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": (4, 2, 60)}
    ip, identifier = f"10.0.0.{uuid.uuid4().int % 250}", f"{uuid.uuid4().hex}@example.com"
    limits.check("login", ip=ip, identifier=identifier)
    limits.check("login", ip=ip, identifier=identifier)
    with pytest.raises(RateLimited):
        limits.check("login", ip=ip, identifier=identifier)  # the identifier's third
    limits.check("login", ip=ip, identifier="other-" + identifier)  # the IP's fourth
    with pytest.raises(RateLimited):
        limits.check("login", ip=ip)  # the IP's fifth
    limits.check("login", ip="192.0.2.1", identifier="third-" + identifier)
    limits.check("register", ip=ip, identifier=identifier)  # actions are counted apart


def test_every_action_has_generous_defaults(settings):
    assert set(settings.RATE_LIMITS) == {"login", "register", "otp_send", "otp_verify", "exists", "reset",
                                       "social", "token_login"}
    for per_ip, per_identifier, window in settings.RATE_LIMITS.values():
        assert per_ip >= per_identifier >= 10 and window >= 60


class Limited(APIView):
    authentication_classes = []
    permission_classes = []

    def post(self, request):
        limits.check("login", ip=limits.client_ip(request), identifier=request.data.get("username"))
        return Response({"ok": 1})


def test_over_the_limit_the_api_answers_429_with_retry_after_in_the_error_format(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": (100, 2, 120)}
    view, factory = Limited.as_view(), APIRequestFactory()
    body = {"username": f"{uuid.uuid4().hex}@example.com"}
    statuses = [view(factory.post("/login", body, format="json")).status_code for _ in range(2)]
    response = view(factory.post("/login", body, format="json"))
    assert statuses == [200, 200] and response.status_code == 429
    assert 119 <= int(response["Retry-After"]) <= 120
    assert response.data["code"] == "rate_limited" and response.data["success"] is False
    assert response.data["message"].startswith("Too many requests.")


def test_client_ip_is_remote_addr_unless_the_peer_is_a_trusted_proxy(settings):
    """The rules themselves: tests/core/test_proxy.py (core.api.proxy.client_ip)."""
    factory = APIRequestFactory()
    request = factory.get("/", REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="203.0.113.7, 10.1.1.1")
    settings.TRUSTED_PROXIES = []
    assert limits.client_ip(request) == "10.1.1.1"
    settings.TRUSTED_PROXIES = ["10.1.1.0/24"]
    assert limits.client_ip(request) == "203.0.113.7"
    assert limits.client_ip(factory.get("/", REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="junk")) == "10.1.1.1"
    assert limits.client_ip(factory.get("/", REMOTE_ADDR="10.1.1.1")) == "10.1.1.1"


# ----------------------------------------------------------------------------- lockout

def fail(app_id, customer_id, ip, kind="password", identifier=EMAIL, times=1, policy=POLICY):
    return [lockout.failed(kind, app_id, customer_id, identifier, ip, policy) for _ in range(times)]


def locked(app_id, customer_id, ip, kind="password", identifier=EMAIL, policy=POLICY):
    return lockout.locked_until(kind, app_id, customer_id, identifier, ip, policy)


def test_attempts_failures_lock_the_identifier_from_that_ip_only(app_id, customer_id):
    results = fail(app_id, customer_id, "10.0.0.1", times=3)
    assert results[:2] == [None, None] and isinstance(results[2], datetime)
    until = locked(app_id, customer_id, "10.0.0.1")
    assert timedelta(seconds=55) < until - datetime.now(timezone.utc) <= timedelta(seconds=60)
    assert locked(app_id, customer_id, "10.0.0.2") is None
    assert locked(app_id, customer_id, "10.0.0.1", identifier="+919999999999") is None


def test_an_unknown_identifier_is_locked_per_ip_like_a_known_one(app_id):
    fail(app_id, None, "10.0.0.1", times=3)
    assert locked(app_id, None, "10.0.0.1") is not None
    assert locked(app_id, None, "10.0.0.2") is None


def test_factor_times_attempts_failures_from_several_ips_lock_the_customer_everywhere(app_id, customer_id):
    for ip in ("10.0.0.1", "10.0.0.2"):
        fail(app_id, customer_id, ip, times=3)
    fail(app_id, customer_id, "10.0.0.3", times=2)
    assert locked(app_id, customer_id, "10.9.9.9") is None
    fail(app_id, customer_id, "10.0.0.3")
    assert locked(app_id, customer_id, "10.9.9.9", identifier="+919999999999") is not None
    assert locked(app_id, None, "10.9.9.9") is None  # the customer's lock needs the customer


def test_password_and_otp_failures_are_counted_apart(app_id, customer_id):
    fail(app_id, customer_id, "10.0.0.1", kind="otp", times=2)
    fail(app_id, customer_id, "10.0.0.1", kind="password", times=2)
    assert locked(app_id, customer_id, "10.0.0.1", kind="otp") is None
    fail(app_id, customer_id, "10.0.0.1", kind="otp")
    assert locked(app_id, customer_id, "10.0.0.1", kind="otp") is not None
    assert locked(app_id, customer_id, "10.0.0.1", kind="password") is None
    assert lockout.state(app_id, customer_id)["failures"] == {"password": 2, "otp": 3}


def test_success_resets_both_counts(app_id, customer_id):
    fail(app_id, customer_id, "10.0.0.1", times=2)
    lockout.succeeded("password", app_id, customer_id, EMAIL, "10.0.0.1")
    assert lockout.state(app_id, customer_id)["failures"]["password"] == 0
    fail(app_id, customer_id, "10.0.0.1", times=2)
    assert locked(app_id, customer_id, "10.0.0.1") is None


def test_locks_and_counts_expire_after_duration(app_id, customer_id):
    fail(app_id, customer_id, "10.0.0.1", times=2)
    fail(app_id, customer_id, "10.0.0.2", times=3)
    client = keyspace.connection()
    keys = list(client.scan_iter(match=keyspace.key("lk", "*", app_id, "*"), count=1000))
    keys += list(client.scan_iter(match=keyspace.key("lk", "idx", app_id, "*"), count=1000))
    assert len(keys) >= 4 and all(55 <= client.ttl(key) <= 60 for key in keys)
    for key in keys:
        if ":pl:" in key:
            client.delete(key)  # as Redis does when the TTL runs out
    assert locked(app_id, customer_id, "10.0.0.2") is None


def test_a_disabled_policy_counts_nothing_and_locks_nothing(app_id, customer_id):
    off = {**POLICY, "enable": False}
    assert fail(app_id, customer_id, "10.0.0.1", times=10, policy=off) == [None] * 10
    assert locked(app_id, customer_id, "10.0.0.1", policy=off) is None
    fail(app_id, customer_id, "10.0.0.1", times=3)
    assert locked(app_id, customer_id, "10.0.0.1", policy=off) is None


def test_state_shows_pair_and_customer_locks_and_unlock_lifts_them(app_id, customer_id):
    assert lockout.state(app_id, customer_id) == {
        "locked": False, "locked_until": None, "locks": {"password": None, "otp": None},
        "failures": {"password": 0, "otp": 0}}
    assert lockout.unlock(app_id, customer_id) is False
    fail(app_id, customer_id, "10.0.0.1", kind="otp", times=3)
    state = lockout.state(app_id, customer_id)
    assert state["locked"] and state["locks"]["otp"] == state["locked_until"] and state["locks"]["password"] is None
    for ip in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        fail(app_id, customer_id, ip, times=3)
    assert lockout.state(app_id, customer_id)["locks"]["password"] is not None
    assert lockout.unlock(app_id, customer_id) is True
    assert lockout.state(app_id, customer_id)["locked"] is False
    for kind in ("otp", "password"):
        assert locked(app_id, customer_id, "10.0.0.1", kind=kind) is None
    fail(app_id, customer_id, "10.0.0.1", times=2)  # the counts started again too
    assert locked(app_id, customer_id, "10.0.0.1") is None


def test_lockout_is_per_application(app_id, customer_id):
    fail(app_id, customer_id, "10.0.0.1", times=3)
    assert locked(uuid.uuid4().hex[:24], customer_id, "10.0.0.1") is None
