"""One-time codes and single-use tokens (accounts.secrets) on the real Redis of the test session."""

import hashlib
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from accounts import keyspace, secrets
from accounts.secrets import CodeExpired, CodeInvalid, ResendTooSoon, TokenInvalid, TooManySends

MOBILE = "+919999999999"
EMAIL = "shopper@example.com"


@pytest.fixture
def app_id():
    """A fresh application id per test: the Redis of the session is shared, keys are per application."""
    return uuid.uuid4().hex[:24]


@pytest.fixture
def fast(settings):
    settings.OTP_RESEND_SECONDS = 0
    return settings


def wrong(code: str) -> str:
    return str((int(code) + 1) % 10 ** len(code)).zfill(len(code))


def test_a_code_has_otp_length_digits_lives_its_ttl_and_is_stored_hashed(app_id):
    issued = secrets.issue_code(app_id, "login", MOBILE)
    assert issued.code.isdigit() and len(issued.code) == 6
    assert (issued.resend_timer, issued.expires_in) == (30, 300)
    key = keyspace.key("otp", "r", issued.request_id)
    stored = keyspace.connection().hgetall(key)
    assert stored["target"] == MOBILE and issued.code not in stored["digest"]
    assert 295 <= keyspace.connection().ttl(key) <= 300


def test_otp_length_is_a_setting(app_id, settings):
    settings.OTP_LENGTH = 4
    codes = {secrets.issue_code(app_id, "login", f"+91888888888{i}").code for i in range(5)}
    assert all(len(code) == 4 and code.isdigit() for code in codes)


def test_the_right_code_gives_the_target_once(app_id):
    issued = secrets.issue_code(app_id, "login", MOBILE)
    assert secrets.check_code(app_id, "login", issued.request_id, issued.code) == MOBILE
    with pytest.raises(CodeExpired):
        secrets.check_code(app_id, "login", issued.request_id, issued.code)


def test_wrong_codes_count_down_and_then_the_code_is_dead(app_id, settings):
    settings.OTP_MAX_ATTEMPTS = 3
    issued = secrets.issue_code(app_id, "login", MOBILE)
    left = []
    for _ in range(3):
        with pytest.raises(CodeInvalid) as caught:
            secrets.check_code(app_id, "login", issued.request_id, wrong(issued.code))
        left.append(caught.value.attempts_left)
    assert left == [2, 1, 0]
    with pytest.raises(CodeExpired):
        secrets.check_code(app_id, "login", issued.request_id, issued.code)


def test_a_code_expires(app_id, settings):
    settings.OTP_TTL_SECONDS = 1
    issued = secrets.issue_code(app_id, "login", MOBILE)
    time.sleep(1.1)
    with pytest.raises(CodeExpired):
        secrets.check_code(app_id, "login", issued.request_id, issued.code)


def test_another_application_purpose_or_target_sees_no_code_and_spends_no_attempt(app_id, settings):
    settings.OTP_MAX_ATTEMPTS = 1
    issued = secrets.issue_code(app_id, "login", MOBILE)
    for application, purpose, target in [(uuid.uuid4().hex[:24], "login", None), (app_id, "verify_mobile", None),
                                         (app_id, "login", "+918888888888")]:
        with pytest.raises(CodeExpired):
            secrets.check_code(application, purpose, issued.request_id, issued.code, target=target)
    assert secrets.check_code(app_id, "login", issued.request_id, issued.code, target=MOBILE) == MOBILE


def test_unknown_or_malformed_request_ids_are_expired(app_id):
    for request_id in ["nope", "", None, "x" * 500]:
        with pytest.raises(CodeExpired):
            secrets.check_code(app_id, "login", request_id, "123456")


def test_the_resend_timer_holds_a_second_code_back_then_the_new_code_replaces_the_old(app_id, settings):
    first = secrets.issue_code(app_id, "login", MOBILE)
    with pytest.raises(ResendTooSoon) as caught:
        secrets.issue_code(app_id, "login", MOBILE)
    assert 29 <= caught.value.retry_after <= 30
    assert secrets.issue_code(app_id, "verify_mobile", MOBILE)  # another purpose has its own timer
    settings.OTP_RESEND_SECONDS = 1
    keyspace.connection().delete(keyspace.key("otp", "wait", keyspace.digest(app_id, "login", MOBILE)))
    second = secrets.issue_code(app_id, "login", MOBILE)
    with pytest.raises(ResendTooSoon):
        secrets.issue_code(app_id, "login", MOBILE)
    time.sleep(1.1)
    third = secrets.issue_code(app_id, "login", MOBILE)
    for old in (first, second):
        with pytest.raises(CodeExpired):
            secrets.check_code(app_id, "login", old.request_id, old.code)
    assert secrets.check_code(app_id, "login", third.request_id, third.code) == MOBILE


def test_sends_per_hour_are_capped_per_application_and_target_across_purposes(app_id, fast):
    fast.OTP_SENDS_PER_HOUR = 3
    for purpose in ("login", "verify_mobile", "login"):
        secrets.issue_code(app_id, purpose, MOBILE)
    with pytest.raises(TooManySends) as caught:
        secrets.issue_code(app_id, "reset", MOBILE)
    assert 3590 <= caught.value.retry_after <= 3600
    secrets.issue_code(app_id, "login", EMAIL)
    secrets.issue_code(uuid.uuid4().hex[:24], "login", MOBILE)


def test_every_code_key_expires(app_id):
    secrets.issue_code(app_id, "login", MOBILE)
    keys = list(keyspace.connection().scan_iter(match=keyspace.key("otp", "*"), count=1000))
    assert keys and all(keyspace.connection().ttl(key) > 0 for key in keys)


# ----------------------------------------------------------------------------- tokens

def test_a_token_is_long_random_stored_hashed_and_taken_once(app_id):
    token = secrets.issue_token("reset", app_id, {"customer_id": "c1"}, ttl=600)
    assert len(token) >= 43 and token != secrets.issue_token("reset", app_id, {}, ttl=600)
    key = keyspace.key("tok", "reset", app_id, hashlib.sha256(token.encode()).hexdigest())
    assert 595 <= keyspace.connection().ttl(key) <= 600
    assert not any(token in k for k in keyspace.connection().scan_iter(match=keyspace.key("tok", "*")))
    assert secrets.peek_token("reset", app_id, token) == {"customer_id": "c1"}
    assert secrets.take_token("reset", app_id, token) == {"customer_id": "c1"}
    with pytest.raises(TokenInvalid):
        secrets.take_token("reset", app_id, token)


def test_a_token_works_only_for_its_application_and_kind(app_id):
    token = secrets.issue_token("register", app_id, {"mobile": MOBILE}, ttl=600)
    with pytest.raises(TokenInvalid):
        secrets.take_token("register", uuid.uuid4().hex[:24], token)
    with pytest.raises(TokenInvalid):
        secrets.take_token("verify_mobile", app_id, token)
    assert secrets.take_token("register", app_id, token) == {"mobile": MOBILE}


def test_a_token_expires_and_garbage_is_invalid(app_id):
    token = secrets.issue_token("verify_email", app_id, {"email": EMAIL}, ttl=1)
    time.sleep(1.1)
    for value in (token, "", None, "x" * 1000, "not-a-token"):
        with pytest.raises(TokenInvalid):
            secrets.take_token("verify_email", app_id, value)


def test_unknown_token_kinds_are_a_programming_error(app_id):
    with pytest.raises(ValueError):
        secrets.issue_token("magic", app_id, {}, ttl=10)


# ----------------------------------------------------------------------------- as the API answers them

class Raising(APIView):
    authentication_classes = []
    permission_classes = []
    error = None

    def post(self, request):
        raise self.error


def answer(error):
    return Raising.as_view(error=error)(APIRequestFactory().post("/x", {}, format="json"))


def test_the_api_answers_code_errors_as_400_in_the_error_format(app_id):
    issued = secrets.issue_code(app_id, "login", MOBILE)
    try:
        secrets.check_code(app_id, "login", issued.request_id, wrong(issued.code))
    except CodeInvalid as error:
        response = answer(error)
    assert response.status_code == 400
    assert response.data["code"] == "otp_invalid" and response.data["meta"] == {"attempts_left": 4}
    response = answer(CodeExpired())
    assert (response.status_code, response.data["code"]) == (400, "otp_expired")
    response = answer(TokenInvalid())
    assert (response.status_code, response.data["code"]) == (400, "token_invalid")


def test_the_api_answers_send_caps_as_429_with_retry_after(app_id):
    secrets.issue_code(app_id, "login", MOBILE)
    try:
        secrets.issue_code(app_id, "login", MOBILE)
    except ResendTooSoon as error:
        response = answer(error)
    assert response.status_code == 429
    assert response["Retry-After"] in {"29", "30"}
    assert response.data["code"] == "otp_resend_too_soon" and response.data["success"] is False
    assert "wait" in response.data["message"]


def test_concurrent_checks_use_a_code_once_and_never_exceed_the_attempt_cap(app_id, fast):
    fast.OTP_MAX_ATTEMPTS = 3

    def race(code_of):
        issued = secrets.issue_code(app_id, "login", MOBILE)

        def attempt(_):
            try:
                return secrets.check_code(app_id, "login", issued.request_id, code_of(issued))
            except (CodeInvalid, CodeExpired) as error:
                return type(error).__name__

        with ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(attempt, range(8)))

    wrong_answers = race(lambda issued: wrong(issued.code))
    assert wrong_answers.count("CodeInvalid") == 3 and wrong_answers.count("CodeExpired") == 5
    right_answers = race(lambda issued: issued.code)
    assert right_answers.count(MOBILE) == 1 and right_answers.count("CodeExpired") == 7


def test_a_used_code_ends_its_resend_timer(app_id, settings):
    settings.OTP_RESEND_SECONDS = 30
    issued = secrets.issue_code(app_id, "login", "+919876543210")
    with pytest.raises(ResendTooSoon):
        secrets.issue_code(app_id, "login", "+919876543210")
    assert secrets.check_code(app_id, "login", issued.request_id, issued.code) == "+919876543210"
    assert secrets.issue_code(app_id, "login", "+919876543210").request_id != issued.request_id


def test_an_attempt_the_admission_refuses_never_touches_the_code(app_id):
    """The rate limit and the lockout are checked in the script that uses the code, before it: a refused
    attempt neither counts a try nor uses a right code."""
    from accounts import limits

    issued = secrets.issue_code(app_id, "login", MOBILE)
    lock = keyspace.key("lk", "test", app_id)
    keyspace.connection().set(lock, "1", px=60_000)
    counter = keyspace.key("rl", "test", app_id)
    locked = limits.Admission(((counter, 10, 60),), (lock,))
    with pytest.raises(limits.AccountLocked) as refused:
        secrets.check_code(app_id, "login", issued.request_id, issued.code, admission=locked)
    assert 55 <= refused.value.meta["retry_after"] <= 60 and refused.value.status_code == 403
    assert keyspace.connection().hget(keyspace.key("otp", "r", issued.request_id), "attempts") == "0"
    assert keyspace.connection().get(counter) == "1"  # the attempt itself was counted by the rate limit
    over = limits.Admission(((counter, 1, 60),))
    with pytest.raises(limits.RateLimited):
        secrets.check_code(app_id, "login", issued.request_id, wrong(issued.code), admission=over)
    assert keyspace.connection().hget(keyspace.key("otp", "r", issued.request_id), "attempts") == "0"
    keyspace.connection().delete(lock)
    admitted = limits.Admission(((keyspace.key("rl", "test2", app_id), 1, 60),), (lock,))
    assert secrets.check_code(app_id, "login", issued.request_id, issued.code, admission=admitted) == MOBILE


def test_a_send_the_rate_limit_refuses_issues_no_code_and_starts_no_resend_timer(app_id):
    """sendOTPOnMobile's rate limit is counted in the script that issues the code, before it: a refused
    send stores no code, starts no resend timer and does not count toward the hourly cap."""
    from accounts import limits

    counter = keyspace.key("rl", "send", app_id)
    once = limits.Admission(((counter, 1, 60),))
    issued = secrets.issue_code(app_id, "login", MOBILE, admission=once)
    pointer = keyspace.key("otp", "cur", keyspace.digest(app_id, "login", MOBILE))
    assert keyspace.connection().get(pointer) == keyspace.key("otp", "r", issued.request_id)
    keyspace.connection().delete(keyspace.key("otp", "wait", keyspace.digest(app_id, "login", MOBILE)))
    with pytest.raises(limits.RateLimited) as refused:
        secrets.issue_code(app_id, "login", MOBILE, admission=once)
    assert not isinstance(refused.value, ResendTooSoon) and 55 <= refused.value.retry_after <= 60
    assert keyspace.connection().get(pointer) == keyspace.key("otp", "r", issued.request_id)  # the first code lives
    assert keyspace.connection().get(keyspace.key("otp", "sent", keyspace.digest(app_id, MOBILE))) == "1"
    assert keyspace.connection().get(counter) == "2"
    assert secrets.check_code(app_id, "login", issued.request_id, issued.code) == MOBILE


def test_a_session_given_to_the_code_check_is_stored_only_by_a_right_admitted_code(app_id):
    """verifyMobileOTP's sign-in: admitted, code used and session stored in one script — never a session
    for a wrong code or a refused attempt."""
    from accounts import limits
    from sessions_app import store

    def session():
        return store.new(application_id=app_id, customer_id="c" * 24, max_age=600, rolling=False)

    issued = secrets.issue_code(app_id, "login", MOBILE)
    wrong_try = session()
    with pytest.raises(CodeInvalid):
        secrets.check_code(app_id, "login", issued.request_id, wrong(issued.code), then=wrong_try)
    lock = keyspace.key("lk", "test", app_id)
    keyspace.connection().set(lock, "1", px=60_000)
    refused = session()
    with pytest.raises(limits.AccountLocked):
        secrets.check_code(app_id, "login", issued.request_id, issued.code, then=refused,
                           admission=limits.Admission((), (lock,)))
    assert store.get(wrong_try.session_id) is None and store.get(refused.session_id) is None
    keyspace.connection().delete(lock)
    right = session()
    assert secrets.check_code(app_id, "login", issued.request_id, issued.code, then=right,
                              admission=limits.Admission((), (lock,))) == MOBILE
    stored = store.get(right.session_id)
    assert stored is not None and stored.customer_id == "c" * 24 and 595 <= stored.expire_in <= 600
    assert right.session_id in store.connection().zrange(store.index_key(app_id, "c" * 24), 0, -1)


def test_a_request_id_seals_its_target_for_its_application_and_purpose(app_id):
    issued = secrets.issue_code(app_id, "login", MOBILE)
    assert MOBILE not in issued.request_id and "919999999999" not in issued.request_id
    assert secrets.code_target(app_id, "login", issued.request_id) == MOBILE
    assert secrets.code_target(app_id, "forgot", issued.request_id) is None
    assert secrets.code_target(uuid.uuid4().hex[:24], "login", issued.request_id) is None
    tampered = issued.request_id[:-2] + ("AA" if issued.request_id[-2:] != "AA" else "BB")
    for bad in (tampered, "nope", "", None, "x" * 600, "!!!!"):
        assert secrets.code_target(app_id, "login", bad) is None
    long_email = "a" * 64 + "@" + "b" * 180 + ".com"
    sealed = secrets.issue_code(app_id, "login", long_email).request_id
    assert len(sealed) <= secrets.MAX_REQUEST_ID and secrets.code_target(app_id, "login", sealed) == long_email
