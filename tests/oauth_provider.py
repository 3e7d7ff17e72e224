"""A real HTTP server on 127.0.0.1 standing in for Google, Apple and Facebook, holding its own RSA signing
keys: it publishes them as JWKS (with Cache-Control), answers Google's tokeninfo and Facebook's
debug_token and /me, and counts every request.

    with oauth_provider() as provider:          # provider.url = "http://localhost:<port>"
        token = provider.id_token(iss=..., aud=..., sub=..., email=...)
        provider.rotate()                        # a new key published (kid changes), the old one dropped
        provider.status = 500 / provider.delay = 2.0   # every answer fails / comes late
        provider.hits["/google/certs"]

Paths: /google/certs, /google/tokeninfo?access_token=, /apple/keys, /graph/debug_token?input_token=&access_token=,
/graph/me?fields=&access_token=&appsecret_proof=.
"""

import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.local_http import serving

JWKS_PATHS = ("/google/certs", "/apple/keys")


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Provider:
    def __init__(self):
        self.url = ""
        self.keys = {}  # kid -> private key (published)
        self.counter = 0
        self.rotate()
        self.cache_control = "public, max-age=3600"
        self.status = None  # an HTTP status every answer gets instead (e.g. 500)
        self.delay = 0.0  # seconds before answering
        self.hits = Counter()
        self.access_tokens = {}  # Google access token -> tokeninfo answer
        self.facebook_apps = {}  # app id -> secret
        self.facebook_tokens = {}  # user token -> {"app_id", "user_id", "is_valid", "me": {...}}
        self.requests = []  # (path, query dict)

    # ----------------------------------------------------------------------------- keys and tokens

    def rotate(self, keep_old: bool = False):
        """A new signing key; the old ones stay published only with ``keep_old``."""
        self.counter += 1
        kid = f"key-{self.counter}"
        if not keep_old:
            self.keys = {}
        self.keys[kid] = new_key()
        self.kid = kid
        return kid

    def jwks(self) -> dict:
        keys = []
        for kid, key in self.keys.items():
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": keys}

    def id_token(self, *, iss, aud, sub, email="", email_verified=True, expires_in=600, kid=None, key=None,
                 algorithm="RS256", **claims) -> str:
        """A token as Google or Apple issue it, signed with the current key (or ``key`` under ``kid``)."""
        now = int(time.time())
        payload = {"iss": iss, "aud": aud, "sub": sub, "iat": now - 5, "exp": now + expires_in, **claims}
        if email:
            payload.update(email=email, email_verified=email_verified)
        kid = kid or self.kid
        signer = key or self.keys.get(kid) or new_key()
        if algorithm == "HS256":
            return jwt.encode(payload, "a-shared-secret-the-server-does-not-know", algorithm="HS256",
                              headers={"kid": kid})
        return jwt.encode(payload, signer, algorithm=algorithm, headers={"kid": kid})

    # ----------------------------------------------------------------------------- answers

    def answer(self, path: str, query: dict) -> tuple[int, dict, dict]:
        if path in JWKS_PATHS:
            return 200, self.jwks(), {"Cache-Control": self.cache_control}
        if path == "/google/tokeninfo":
            info = self.access_tokens.get(query.get("access_token", ""))
            if info is None:
                return 400, {"error": "invalid_token", "error_description": "Invalid Value"}, {}
            return 200, info, {}
        if path == "/graph/debug_token":
            app_id, _, secret = query.get("access_token", "").partition("|")
            if self.facebook_apps.get(app_id) != secret or not secret:
                return 400, {"error": {"message": "Invalid OAuth access token.", "type": "OAuthException",
                                       "code": 190}}, {}
            token = self.facebook_tokens.get(query.get("input_token", ""))
            if token is None:
                return 200, {"data": {"is_valid": False, "error": {"code": 190, "message": "Malformed"}}}, {}
            return 200, {"data": {"app_id": token["app_id"], "user_id": token["user_id"],
                                  "is_valid": token.get("is_valid", True), "type": "USER",
                                  "expires_at": int(time.time()) + 3600}}, {}
        if path == "/graph/me":
            token = self.facebook_tokens.get(query.get("access_token", ""))
            if token is None or not token.get("is_valid", True):
                return 400, {"error": {"message": "Invalid OAuth access token.", "code": 190}}, {}
            secret = self.facebook_apps.get(token["app_id"], "")
            proof = hmac.new(secret.encode(), query["access_token"].encode(), hashlib.sha256).hexdigest()
            if query.get("appsecret_proof") != proof:
                return 400, {"error": {"message": "Invalid appsecret_proof", "code": 100}}, {}
            fields = query.get("fields", "id").split(",")
            return 200, {k: v for k, v in token["me"].items() if k in fields}, {}
        return 404, {"error": "not found"}, {}


@contextmanager
def oauth_provider():
    provider = Provider()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            with lock:
                provider.hits[parts.path] += 1
                provider.requests.append((parts.path, query))
            if provider.delay:
                time.sleep(provider.delay)
            if provider.status is not None:
                status, body, headers = provider.status, {"error": "failed"}, {}
            else:
                status, body, headers = provider.answer(parts.path, query)
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout tests)

    with serving(Handler) as url:
        provider.url = url
        yield provider
