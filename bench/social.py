"""The social sign-in scenario of `make bench` (issue 13), on the bench application's customers.

- ``social_login``: loginWithGoogle (``POST …/login/google-token``) with a Google ID token for one of
  SOCIAL_CUSTOMERS customers whose Google identity is linked (users.models.LinkedIdentity, subject
  ``bench-google-<i>``): the token's signature is checked against the JWKS of a stand-in Google
  (``JwksStandIn``: a threading HTTP server of the bench process on 127.0.0.1, one RSA key, ``Cache-Control:
  public, max-age=3600``), cached in Redis by the service after the first request (the correctness pass
  makes it), then issuer, audience and expiry; the linked customer is signed in (a new session).

The bench server is pointed at the stand-in (``server_env``: GOOGLE_JWKS_URL, SOCIAL_ALLOWED_HOSTS). The
tokens are RS256, ``kid`` set, issued by ``https://accounts.google.com`` for CLIENT_ID, valid 3 hours, made
by ``scenarios`` and again by the scenario's refresh when older than TOKEN_REFRESH_SECONDS. Each request
comes from another client address (``X-Forwarded-For``, trusted by the bench server, bench/accounts.py) and
the rate-limit counters (``facct:rl:*``) are cleared before every load run, so that neither the per-IP nor
the per-identity social limit (RATE_LIMITS["social"]) stands in for the code being measured.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg

from bench.accounts import AUTH, _client, clear_account_keys
from bench.load import Request

CLIENT_ID = "bench-google-client.apps.googleusercontent.com"
ISSUER = "https://accounts.google.com"
KID = "bench-google-key-1"
SUBJECT = "bench-google-{}"
SOCIAL_CUSTOMERS = 5_000
TOKEN_SECONDS = 3 * 3600
TOKEN_REFRESH_SECONDS = 1800  # tokens older than this are made again (they stay valid 2.5 h more at least)
CACHE_CONTROL = "public, max-age=3600"
JWKS_PATH = "/oauth2/v3/certs"
GOOGLE_LOGIN = AUTH + "login/google-token"
CLIENT_OFFSET = 400_000  # client addresses apart from those of bench/accounts.py
TARGET_RATIO = 3  # issue 13: p95 ≤ 3× the floor's p95, the JWKS cached


def _jwk_of(public_key) -> dict:
    import jwt

    return {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public_key)), "kid": KID, "use": "sig", "alg": "RS256"}


class JwksStandIn:
    """Google's signing-key endpoint, standing in: a ThreadingHTTPServer on 127.0.0.1 (free port) in a
    daemon thread, serving one RSA public key as a JWKS at ``url``; ``id_token`` signs with its private key.
    ``hits`` counts the JWKS requests (one per cache lifetime is all the service should make)."""

    def __init__(self):
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.body = json.dumps({"keys": [_jwk_of(self.private_key.public_key())]}).encode()
        self.hits = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> JwksStandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path.split("?", 1)[0] != JWKS_PATH:
                    self.send_error(404)
                    return
                stand_in.hits += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Cache-Control", CACHE_CONTROL)
                self.send_header("Content-Length", str(len(stand_in.body)))
                self.end_headers()
                self.wfile.write(stand_in.body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="bench-jwks", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> JwksStandIn:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the JWKS stand-in is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}{JWKS_PATH}"

    def server_env(self) -> dict:
        """What the bench server's environment needs to fetch the keys from here."""
        return {"GOOGLE_JWKS_URL": self.url, "SOCIAL_ALLOWED_HOSTS": "127.0.0.1"}

    def id_token(self, subject: str, email: str, *, now: int | None = None, expires_in: int = TOKEN_SECONDS) -> str:
        """A Google ID token as Google issues it (RS256, ``kid`` set), for CLIENT_ID, valid ``expires_in``."""
        import jwt

        now = int(time.time()) if now is None else now
        claims = {"iss": ISSUER, "azp": CLIENT_ID, "aud": CLIENT_ID, "sub": subject, "email": email,
                  "email_verified": True, "iat": now - 5, "exp": now + expires_in}
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": KID})


def seed(conn: psycopg.Connection, application_id: str, log,
         customers: int = SOCIAL_CUSTOMERS) -> list[tuple[str, str]]:
    """Google sign-in on in the platform config (merged: the lockout policy of bench/accounts.py stays) with
    CLIENT_ID; the Google identities ``bench-google-<i>`` linked to the ``customers`` live customers with the
    highest ids (none of those bench/accounts.py gives passwords or locks), inserted when not already so.
    Returns [(customer id, email)], subject i for row i."""
    from core.actors import Actor
    from core.tenancy.models import Application
    from sessions_app.platform_config import update_platform_config

    application = Application.objects.get(pk=application_id)
    update_platform_config(application, {"social": {"google": True},
                                         "social_tokens": {"google": {"app_id": CLIENT_ID}}},
                           Actor.system("make bench"))
    rows = conn.execute(
        "SELECT c.id, e.email FROM users_customer c"
        " JOIN users_customeremail e ON e.customer_id = c.id AND e.\"primary\""
        " WHERE c.application_id = %s AND NOT c.archived AND c.active ORDER BY c.id DESC LIMIT %s",
        [application_id, customers]).fetchall()
    if len(rows) < customers:
        raise RuntimeError(f"social: only {len(rows):,} live customers with an email to link, {customers:,} wanted")
    wanted = {SUBJECT.format(i): customer_id for i, (customer_id, _) in enumerate(rows)}
    linked = dict(conn.execute(
        "SELECT subject, customer_id FROM users_linkedidentity"
        " WHERE application_id = %s AND provider = 'google' AND subject LIKE 'bench-google-%%'",
        [application_id]).fetchall())
    if linked != wanted:
        started = time.perf_counter()
        with conn.transaction():
            conn.execute("DELETE FROM users_linkedidentity WHERE application_id = %s AND provider = 'google'"
                         " AND (subject LIKE 'bench-google-%%' OR customer_id = ANY(%s))",
                         [application_id, list(wanted.values())])
            conn.execute(
                "INSERT INTO users_linkedidentity (customer_id, application_id, provider, subject, email, linked_at)"
                " SELECT v.customer_id, %s, 'google', v.subject, v.email, now()"
                " FROM unnest(%s::text[], %s::text[], %s::text[]) AS v(customer_id, subject, email)",
                [application_id, [r[0] for r in rows], [SUBJECT.format(i) for i in range(len(rows))],
                 [r[1] for r in rows]])
        log(f"social: Google identities linked to {len(rows):,} customers in {time.perf_counter() - started:.1f} s")
    return [(r[0], r[1]) for r in rows]


def login_request(token: str, n: int) -> Request:
    body = json.dumps({"oauth2": {"access_token": token}}, separators=(",", ":"))
    return Request(GOOGLE_LOGIN, method="POST", body=body, headers=_client(CLIENT_OFFSET + n))


def scenarios(app_id: str, app_token: str, sample: list[tuple[str, str]], stand_in: JwksStandIn) -> list:
    """The Scenario (bench/scenarios.py) of issue 13's social sign-in: p95 ≤ 3× the floor's p95."""
    from bench.scenarios import Scenario

    authorization = "Bearer " + base64.b64encode(f"{app_id}:{app_token}".encode()).decode()
    expected = [customer_id for customer_id, _ in sample]
    made = {"at": 0.0, "requests": []}

    def tokens() -> list[Request]:
        now = time.time()
        if now - made["at"] > TOKEN_REFRESH_SECONDS:
            made["requests"] = [login_request(stand_in.id_token(SUBJECT.format(i), email, now=int(now)), i)
                                for i, (_, email) in enumerate(sample)]
            made["at"] = now
        return made["requests"]

    def fresh() -> list[Request]:
        clear_account_keys("rl")  # the rate-limit counters of the previous run; the cached JWKS stays
        return tokens()

    def user_check(answer: dict, index: int) -> str | None:
        found = (answer.get("user") or {}).get("_id")
        return None if found == expected[index] else f"expected user {expected[index]}, got {str(answer)[:200]}"

    return [
        Scenario("social_login", "loginWithGoogle (storefront)",
                 f"a Google ID token (RS256, checked against the stand-in Google's JWKS, cached in Redis) of one of "
                 f"{len(sample):,} customers with a linked Google identity; a new session each",
                 fresh(), TARGET_RATIO, user_check, authorization=authorization, refresh=fresh),
    ]
