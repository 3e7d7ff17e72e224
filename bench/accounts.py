"""The storefront account scenarios of `make bench` (issue 12), on the bench application's customers.

- ``password_login``: loginWithEmailAndPassword with the right password for one of PASSWORD_CUSTOMERS
  customers given a password (one Argon2id hash made here, stored for each: the cost is the same);
  judged beside the hash's own time (``hash_times``), measured here with as many processes hashing at
  once as the load has connections, and beside the floor.
- ``locked_login``: the right password of one of LOCKED_CUSTOMERS customers locked out (the platform
  config's account_lockout on): refused before any hashing.
- ``send_otp``: sendOTPOnMobile for one of OTP_CUSTOMERS mobiles (delivery queued, not awaited: the
  bench server's Celery queue is its own and is emptied afterwards, so no SMS is ever sent).
- ``verify_otp``: verifyMobileOTP with a right code: codes are issued here (accounts.secrets, the same
  Redis) before every load run, each used once; a right code signs the customer in.
Each request comes from another client address (``X-Forwarded-For``, trusted by the bench server) so
that the per-IP rate limits of one shopper do not stand in for the code being measured; the per-
identifier limits and the lockout apply as in production.
"""

from __future__ import annotations

import base64
import json
import statistics
import time
from concurrent.futures import ProcessPoolExecutor

import psycopg

from bench.load import Request

PASSWORD = "Bench-password-2026"
PASSWORD_CUSTOMERS = 5_000
LOCKED_CUSTOMERS = 500
OTP_CUSTOMERS = 40_000  # half for send_otp (each mobile once per run: the resend timer), half for verify_otp
VERIFY_CODES = 12_000
MESSAGE_QUEUE = "bench-messages"
SERVER_ENV = {"TRUSTED_CLIENT_IP_HEADER": "X-Forwarded-For", "CELERY_QUEUE": MESSAGE_QUEUE}
LOCK_POLICY = {"enable": True, "attempts": 5, "duration": 60}
SCENARIOS = ("password_login", "locked_login", "send_otp", "verify_otp")
AUTH = "/service/application/user/authentication/v1.0/"


def _address(n: int) -> str:
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def _client(n: int) -> tuple[tuple[str, str], ...]:
    return (("X-Forwarded-For", _address(n)),)


def clear_account_keys(*parts: str) -> None:
    """Keys of earlier runs (accounts/keyspace.py), so each run starts equal: all of them, or those under
    ``parts`` ("otp": codes, resend timers and hourly caps; "rl": rate limits; "lk": lockouts)."""
    from accounts import keyspace

    client = keyspace.connection()
    for pattern in [keyspace.key(part, "*") for part in parts] or [keyspace.PREFIX + "*"]:
        for key in client.scan_iter(match=pattern, count=5000):
            client.delete(key)


def drop_queued_messages() -> None:
    """The messages the scenarios queued for a worker that never runs (the bench's own queue)."""
    from accounts import keyspace

    keyspace.connection().delete(MESSAGE_QUEUE)


def seed(conn: psycopg.Connection, application_id: str, log) -> dict:
    """Passwords for the first PASSWORD_CUSTOMERS + LOCKED_CUSTOMERS customers (by id), their mobiles
    verified; lockout on in the platform config. Returns the sample: emails, locked emails, phones."""
    from django.contrib.auth.hashers import make_password

    from core.actors import Actor
    from core.tenancy.models import Application
    from sessions_app.platform_config import update_platform_config

    application = Application.objects.get(pk=application_id)
    update_platform_config(application, {"account_lockout": LOCK_POLICY}, Actor.system("make bench"))
    with_password = PASSWORD_CUSTOMERS + LOCKED_CUSTOMERS
    rows = conn.execute(
        "SELECT c.id, e.email, p.e164 FROM users_customer c"
        " JOIN users_customeremail e ON e.customer_id = c.id AND e.\"primary\""
        " JOIN users_customerphone p ON p.customer_id = c.id AND p.\"primary\""
        " WHERE c.application_id = %s AND NOT c.archived AND c.active ORDER BY c.id LIMIT %s",
        [application_id, with_password + OTP_CUSTOMERS]).fetchall()
    password_rows, phone_rows = rows[:with_password], rows[with_password:]
    have = conn.execute("SELECT count(*) FROM accounts_credential WHERE customer_id = ANY(%s)",
                        [[r[0] for r in password_rows]]).fetchone()[0]
    if have != len(password_rows):
        started = time.perf_counter()
        hashed = make_password(PASSWORD)
        with conn.transaction():
            conn.execute("DELETE FROM accounts_credential WHERE customer_id = ANY(%s)", [[r[0] for r in password_rows]])
            with conn.cursor().copy("COPY accounts_credential (customer_id, password, password_changed_at, "
                                    "previous_passwords) FROM STDIN") as copy:
                for customer_id, _, _ in password_rows:
                    copy.write_row([customer_id, hashed, "now", "[]"])
            conn.execute("UPDATE users_customeremail SET verified = true WHERE customer_id = ANY(%s)",
                         [[r[0] for r in password_rows]])
        log(f"accounts: passwords for {len(password_rows):,} customers in {time.perf_counter() - started:.1f} s")
    with conn.transaction():  # every sample's mobile verified, so that no run pays a first verification
        conn.execute("UPDATE users_customerphone SET verified = true WHERE customer_id = ANY(%s) AND NOT verified",
                     [[r[0] for r in rows]])
    return {"emails": [r[1] for r in password_rows[:PASSWORD_CUSTOMERS]],
            "locked": [(r[0], r[1]) for r in password_rows[PASSWORD_CUSTOMERS:]],
            "phones": [r[2] for r in phone_rows]}


def lock(application_id: str, locked: list) -> None:
    """Lock the customers out everywhere (LOCKOUT_CUSTOMER_FACTOR × attempts failures, from several IPs)."""
    from django.conf import settings

    from accounts import limits

    failures = settings.LOCKOUT_CUSTOMER_FACTOR * LOCK_POLICY["attempts"]
    for customer_id, email in locked:
        for n in range(failures):
            limits.lockout.failed("password", application_id, customer_id, email, _address(n // LOCK_POLICY["attempts"]),
                                  LOCK_POLICY)


def _hash_once(encoded: str) -> float:
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth.hashers import check_password

    started = time.perf_counter()
    assert check_password(PASSWORD, encoded)
    return (time.perf_counter() - started) * 1000


def hash_times(connections: int, rounds: int = 100) -> dict:
    """p50 / p95 ms of checking one Argon2id hash: alone, and with ``connections`` processes hashing at
    once (as many as the load's connections: the machine's own limit for that many sign-ins)."""
    from django.contrib.auth.hashers import make_password

    encoded = make_password(PASSWORD)
    alone = [_hash_once(encoded) for _ in range(rounds // 2)]
    with ProcessPoolExecutor(max_workers=connections) as pool:
        list(pool.map(_hash_once, [encoded] * connections))  # start the processes
        together = list(pool.map(_hash_once, [encoded] * rounds * connections))

    def p95(values):
        return statistics.quantiles(values, n=20)[-1]

    return {"alone_p50": statistics.median(alone), "alone_p95": p95(alone),
            "concurrent_p50": statistics.median(together), "concurrent_p95": p95(together),
            "connections": connections}


def scenarios(app_id: str, app_token: str, sample: dict, hashes: dict) -> list:
    """The four Scenario objects (bench/scenarios.py), with issue 12's targets: password sign-in p95 ≤ the
    hash's own p95 (with as many hashing at once as connections) + 3× the floor's p95; a locked account
    ≤ 2× the floor; sending and verifying a code ≤ 3× the floor."""
    from accounts import secrets
    from bench.scenarios import Scenario

    authorization = "Bearer " + base64.b64encode(f"{app_id}:{app_token}".encode()).decode()

    def post(path: str, body: dict, n: int) -> Request:
        return Request(AUTH + path, method="POST", body=json.dumps(body, separators=(",", ":")), headers=_client(n))

    def user_check(answer: dict, index: int) -> str | None:
        return None if (answer.get("user") or {}).get("_id") else f"no user in {str(answer)[:200]}"

    def locked_check(answer: dict, index: int) -> str | None:
        return None if answer.get("code") == "account_locked" else f"not locked: {str(answer)[:200]}"

    def sent_check(answer: dict, index: int) -> str | None:
        return None if answer.get("request_id") and answer.get("success") else f"not sent: {str(answer)[:200]}"

    logins = [post("login/password", {"username": email, "password": PASSWORD}, n)
              for n, email in enumerate(sample["emails"])]
    locked = [post("login/password", {"username": email, "password": PASSWORD}, 100_000 + n)
              for n, (_, email) in enumerate(sample["locked"])]
    phones = sample["phones"]
    sends = [post("otp/mobile/send", {"mobile": e164[3:], "country_code": "91"}, 200_000 + n)
             for n, e164 in enumerate(phones[:OTP_CUSTOMERS // 2])]
    verify_phones = phones[OTP_CUSTOMERS // 2:]

    def fresh_sends() -> list[Request]:
        clear_account_keys("otp", "rl")  # resend timers and hourly caps of the previous run; not the locks
        return sends

    def fresh_codes() -> list[Request]:
        clear_account_keys("otp", "rl")
        requests = []
        for n, e164 in enumerate(verify_phones[:VERIFY_CODES]):
            issued = secrets.issue_code(app_id, "login", e164)
            requests.append(post("otp/mobile/verify", {"request_id": issued.request_id, "otp": issued.code},
                                 300_000 + n))
        return requests

    def hash_p95_now() -> float:
        return round(hash_times(hashes["connections"])["concurrent_p95"], 1)

    return [
        Scenario("password_login", "loginWithEmailAndPassword (storefront)",
                 f"the right password of one of {len(logins):,} customers with a password (Argon2id: the allowance "
                 f"is the p95 of {hashes['connections']} processes hashing at once, measured right after each round "
                 f"and taken off that round's p95; the column shows their median; {hashes['alone_p95']:.0f} ms "
                 "alone); a new session each", logins, 3, user_check,
                 authorization=authorization, target_extra_ms=round(hashes["concurrent_p95"], 1),
                 allowance=hash_p95_now),
        Scenario("locked_login", "loginWithEmailAndPassword, account locked",
                 f"the right password of one of {len(locked):,} locked-out customers: refused before hashing",
                 locked, 2, locked_check, authorization=authorization, expected_status=403),
        Scenario("send_otp", "sendOTPOnMobile (storefront)",
                 f"a code for one of {len(sends):,} mobiles (resend timers cleared before each run); the SMS queued "
                 "for a worker, not awaited", sends, 3, sent_check, authorization=authorization,
                 refresh=fresh_sends),
        Scenario("verify_otp", "verifyMobileOTP (storefront)",
                 f"a right code (issued before each run, each used once) of one of {VERIFY_CODES:,} customers' "
                 "mobiles: the customer is signed in (a new session)", fresh_codes(), 3,
                 user_check, authorization=authorization, refresh=fresh_codes),
    ]
