"""The providers' signing keys (JWKS), cached in Redis for every web process.

- ``facct:jwks:<hash of the URL>`` holds the JWKS answer (its ``keys``) for the answer's Cache-Control
  ``max-age`` (SOCIAL_JWKS_DEFAULT_SECONDS when it gives none, ``no-store`` / ``no-cache`` counting as the
  minimum), bounded by SOCIAL_JWKS_MIN_SECONDS and SOCIAL_JWKS_MAX_SECONDS.
- A token naming a ``kid`` the cached keys lack (the provider rotated its keys) refetches them, at most
  once per SOCIAL_JWKS_REFRESH_SECONDS per URL (``facct:jwksr:<hash>``, SET NX): a flood of made-up kids
  costs the provider one request per window, and the token is refused when the kid is still unknown.
- Parsed keys are kept per process by the cached text, and used for SOCIAL_JWKS_LOCAL_SECONDS (10) without
  asking Redis again: a sign-in with a known kid costs no round trip; a key the provider withdrew is
  still accepted by a process for at most that long after Redis's copy changed.
"""

import hashlib
import json
import re
import threading
import time

import jwt
from django.conf import settings

from accounts import keyspace
from accounts.social.errors import provider_unavailable, token_invalid
from accounts.social.http import get_json

MAX_AGE = re.compile(r"(?:^|[,\s])(?:s-)?max-age\s*=\s*\"?(\d+)", re.IGNORECASE)

_parsed: dict[str, tuple[str, dict]] = {}  # url -> (cached text, {kid: key})
_lock = threading.Lock()
# url -> (monotonic time until which the keys are used without asking Redis, {kid: key}): a sign-in with
# a known kid then costs no round trip; a kid not among them asks Redis (and maybe the provider) at once.
_recent: dict[str, tuple[float, dict]] = {}


def _names(url: str) -> tuple[str, str]:
    digest = hashlib.sha256(url.encode()).hexdigest()[:32]
    return keyspace.key("jwks", digest), keyspace.key("jwksr", digest)


def lifetime(cache_control: str) -> int:
    """Seconds to keep a JWKS answer with this Cache-Control header, within the settings' bounds."""
    low, high = settings.SOCIAL_JWKS_MIN_SECONDS, settings.SOCIAL_JWKS_MAX_SECONDS
    value = (cache_control or "").lower()
    if "no-store" in value or "no-cache" in value:
        return low
    found = MAX_AGE.search(value)
    seconds = int(found.group(1)) if found else settings.SOCIAL_JWKS_DEFAULT_SECONDS
    return max(low, min(high, seconds))


def _fetch(provider: str, url: str, setting: str) -> str:
    """Fetch the JWKS and cache it; its text (the ``keys`` list as JSON)."""
    answer = get_json(provider, url, setting)
    keys = answer.data.get("keys")
    if answer.status != 200 or not isinstance(keys, list):
        raise provider_unavailable(provider, f"its signing keys answered HTTP {answer.status}"
                                   if answer.status != 200 else "its signing keys are not a JWKS")
    text = json.dumps(keys, separators=(",", ":"), sort_keys=True)
    cache_key, _ = _names(url)
    keyspace.connection().set(cache_key, text, ex=lifetime(answer.headers.get("cache-control", "")))
    return text


def _keys_of(url: str, text: str) -> dict:
    """{kid: public key} of the RSA signing keys in a cached JWKS text (parsed once per process and text)."""
    cached = _parsed.get(url)
    if cached is not None and cached[0] == text:
        return cached[1]
    keys = {}
    for jwk in json.loads(text):
        if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or jwk.get("use", "sig") != "sig":
            continue
        if not isinstance(jwk.get("kid"), str):
            continue
        try:
            keys[jwk["kid"]] = jwt.PyJWK(jwk, algorithm="RS256").key
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError, KeyError):
            continue  # one bad key does not spoil the others
    with _lock:
        _parsed[url] = (text, keys)
    return keys


def signing_key(provider: str, url: str, setting: str, kid):
    """The public key ``kid`` of the provider's JWKS at ``url``; 401 ``social_token_invalid`` when the
    provider has no such key (even after the refresh, or when a refresh was made too recently)."""
    if not isinstance(kid, str) or not kid or len(kid) > 200:
        raise token_invalid(f"The {provider} token names no signing key.")
    recent = _recent.get(url)
    if recent is not None and time.monotonic() < recent[0] and kid in recent[1]:
        return recent[1][kid]
    cache_key, refresh_key = _names(url)
    text = keyspace.connection().get(cache_key)
    fetched = text is None
    if fetched:
        text = _fetch(provider, url, setting)
    keys = _keys_of(url, text)
    _recent[url] = (time.monotonic() + settings.SOCIAL_JWKS_LOCAL_SECONDS, keys)
    if kid in keys:
        return keys[kid]
    if not fetched and keyspace.connection().set(refresh_key, "1", nx=True,
                                                 ex=max(1, settings.SOCIAL_JWKS_REFRESH_SECONDS)):
        keys = _keys_of(url, _fetch(provider, url, setting))
        if kid in keys:
            return keys[kid]
    raise token_invalid(f"The {provider} token is signed with a key {provider} does not publish.")
