"""One-time codes (OTP) and single-use tokens (register, reset and verification links), in Redis.

Codes (``facct:otp:…``): a code of OTP_LENGTH digits lives OTP_TTL_SECONDS under its request id (a random
nonce and the target sealed with a key derived from SECRET_KEY), bound to (application, purpose, target), stored only as an HMAC of (request id, code) keyed with
SECRET_KEY. It allows OTP_MAX_ATTEMPTS tries (each try is counted *before* the comparison, so parallel
guesses cannot exceed the cap); the right one consumes it. A new code for the same (application,
purpose, target) replaces the previous one; a resend timer and a cap of sends per hour per
(application, target) hold back floods of messages. Targets are passed normalised by the caller
(``users.contacts``).

Tokens (``facct:tok:<kind>:<application>:<sha256>``): 256 random bits, URL-safe; Redis keeps only the
SHA-256 of the token, with the JSON data bound to the application, for ``ttl`` seconds. Taking one
deletes it in the same command (GETDEL): single use even under concurrent requests.
"""

import base64
import functools
import hashlib
import json
import os
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from django.conf import settings
from django.utils.crypto import salted_hmac

from accounts import keyspace, limits
from accounts.limits import RateLimited
from core.api.errors import ServiceError
from sessions_app import store

TOKEN_KINDS = ("register", "reset", "verify_email", "verify_mobile", "sign_in")
SENDS_WINDOW_SECONDS = 3600


class CodeInvalid(ServiceError):
    code = "otp_invalid"

    def __init__(self, attempts_left: int):
        tries = "attempt" if attempts_left == 1 else "attempts"
        super().__init__(f"The code is wrong: {attempts_left} {tries} left.", meta={"attempts_left": attempts_left})
        self.attempts_left = attempts_left


class CodeExpired(ServiceError):
    code = "otp_expired"

    def __init__(self):
        super().__init__("The code has expired or was already used: request a new one.")


class TokenInvalid(ServiceError):
    code = "token_invalid"

    def __init__(self):
        super().__init__("The link or token is invalid, already used or expired.")


class ResendTooSoon(RateLimited):
    default_code = "otp_resend_too_soon"
    default_detail = "A code was sent moments ago: wait before asking for another."


class TooManySends(RateLimited):
    default_code = "otp_send_limit"
    default_detail = "Too many codes were sent to this address."


@dataclass(frozen=True)
class IssuedCode:
    request_id: str
    code: str
    resend_timer: int
    expires_in: int


# A Lua function: KEYS[k ..]: resend timer, sends counter, current code pointer, new code. ARGV[a ..]: resend
# ms, sends per hour, ttl s, application, purpose, target, code digest, sends window s.
# Returns {0, 0} when issued, {1, ms} when the resend timer runs, {2, ms} when the hourly cap is reached.
_ISSUE_LUA = """
local function issue(k, a)
  local wait = redis.call('PTTL', KEYS[k])
  if wait > 0 then return {1, wait} end
  local sent = tonumber(redis.call('GET', KEYS[k + 1]) or '0')
  if sent >= tonumber(ARGV[a + 1]) then
    local left = redis.call('PTTL', KEYS[k + 1])
    if left < 0 then redis.call('EXPIRE', KEYS[k + 1], ARGV[a + 7]); left = tonumber(ARGV[a + 7]) * 1000 end
    return {2, left}
  end
  redis.call('INCR', KEYS[k + 1])
  if redis.call('PTTL', KEYS[k + 1]) < 0 then redis.call('EXPIRE', KEYS[k + 1], ARGV[a + 7]) end
  if tonumber(ARGV[a]) > 0 then redis.call('SET', KEYS[k], '1', 'PX', ARGV[a]) end
  local previous = redis.call('GET', KEYS[k + 2])
  if previous then redis.call('DEL', previous) end
  redis.call('HSET', KEYS[k + 3], 'application_id', ARGV[a + 3], 'purpose', ARGV[a + 4], 'target', ARGV[a + 5],
             'digest', ARGV[a + 6], 'attempts', 0, 'wait', KEYS[k])
  redis.call('EXPIRE', KEYS[k + 3], ARGV[a + 2])
  redis.call('SET', KEYS[k + 2], KEYS[k + 3], 'EX', ARGV[a + 2])
  return {0, 0}
end
"""

# The send admitted first (accounts.limits.ADMISSION_LUA: the rate limits) and the code issued only then, in
# one round trip: {3, wait ms, lock ms} when refused, else as issue().
_ADMIT_AND_ISSUE = limits.ADMISSION_LUA + _ISSUE_LUA + """
local wait, locked, k, a = admission(1, 1)
if wait > 0 or locked > 0 then return {3, wait, locked} end
return issue(k, a)
"""

# A Lua function: KEYS[k]: the code, KEYS[k + 1 ..]: keys to delete when the code is right (lockout counts).
# ARGV[a ..]: application, purpose, max attempts, target ('' = any), the digest of the given code, how many
# keys to delete. Counts one try; returns {1, target} when right (the code, its resend timer and the other
# keys deleted), {2, tries} when wrong, {0} when unknown, spent or bound elsewhere; then the indexes of the
# first key and argument after its own. A try past the cap does not delete the code: a right answer counted
# before it may still be on its way to using it. The comparison is Redis's string equality, not
# constant-time: it compares HMACs keyed with SECRET_KEY, whose prefixes tell nothing.
_USE_LUA = """
local function use(k, a)
  local n = tonumber(ARGV[a + 5])
  local after_k, after_a = k + 1 + n, a + 6
  local data = redis.call('HMGET', KEYS[k], 'application_id', 'purpose', 'target', 'digest', 'wait')
  if not data[1] or data[1] ~= ARGV[a] or data[2] ~= ARGV[a + 1] then return {0}, after_k, after_a end
  if ARGV[a + 3] ~= '' and data[3] ~= ARGV[a + 3] then return {0}, after_k, after_a end
  local tries = redis.call('HINCRBY', KEYS[k], 'attempts', 1)
  if tries > tonumber(ARGV[a + 2]) then return {0}, after_k, after_a end
  if data[4] ~= ARGV[a + 4] then return {2, tries}, after_k, after_a end
  redis.call('DEL', KEYS[k])
  if data[5] then redis.call('DEL', data[5]) end
  for i = k + 1, k + n do redis.call('DEL', KEYS[i]) end
  return {1, data[3]}, after_k, after_a
end
"""

# The attempt admitted first (accounts.limits.ADMISSION_LUA: rate limits and locks) and the code used only
# then, in one round trip: {3, wait ms, lock ms} when refused, else as use(). With a session after them
# (sessions_app.store.SAVE_LUA), the session is stored when the code is right: a sign-in in one round trip.
_ADMIT_AND_USE = limits.ADMISSION_LUA + _USE_LUA + """
local wait, locked, k, a = admission(1, 1)
if wait > 0 or locked > 0 then return {3, wait, locked} end
local result = use(k, a)
return result
"""
_ADMIT_USE_AND_SAVE = limits.ADMISSION_LUA + _USE_LUA + store.SAVE_LUA + """
local wait, locked, k, a = admission(1, 1)
if wait > 0 or locked > 0 then return {3, wait, locked} end
local result, after_k, after_a = use(k, a)
if result[1] == 1 then save_session(after_k, after_a) end
return result
"""


def _code_key(request_id: str) -> str:
    return keyspace.key("otp", "r", request_id)


def _code_digest(request_id: str, code: str) -> str:
    return salted_hmac("accounts.secrets.otp", f"{request_id}:{code}", algorithm="sha256").hexdigest()


def new_code(length: int | None = None) -> str:
    length = length or settings.OTP_LENGTH
    return f"{secrets.randbelow(10 ** length):0{length}d}"


MAX_REQUEST_ID = 512  # a sealed email address of 254 characters is 376


@functools.lru_cache(maxsize=4)
def _request_id_cipher(secret_key: str) -> AESGCM:
    return AESGCM(salted_hmac("accounts.secrets.request_id", "aes-256-gcm", secret=secret_key,
                              algorithm="sha256").digest())


def _request_id(application_id: str, purpose: str, target: str) -> str:
    """A new request id: the target sealed (AES-256-GCM, a key derived from SECRET_KEY, bound to the
    application and purpose) under a random nonce. verifyMobileOTP names only the request id; its target is
    read from it without a round trip, and nobody else can read it (a phone number in a log stays unknown)."""
    nonce = os.urandom(12)
    sealed = _request_id_cipher(settings.SECRET_KEY).encrypt(nonce, target.encode(),
                                                              f"{application_id}\x1f{purpose}".encode())
    return base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()


def issue_code(application_id: str, purpose: str, target: str, *,
               admission: limits.Admission = limits.NOTHING_TO_ADMIT) -> IssuedCode:
    """A fresh code for ``target``; raises ResendTooSoon / TooManySends (429 with Retry-After). The send is
    first counted and checked by ``admission`` (RateLimited), in the same round trip."""
    request_id = _request_id(application_id, purpose, target)
    code = new_code()
    per_target = keyspace.digest(application_id, purpose, target)
    found = keyspace.script(_ADMIT_AND_ISSUE)(
        keys=[*admission.keys,
              keyspace.key("otp", "wait", per_target),
              keyspace.key("otp", "sent", keyspace.digest(application_id, target)),
              keyspace.key("otp", "cur", per_target),
              _code_key(request_id)],
        args=[*admission.args,
              settings.OTP_RESEND_SECONDS * 1000, settings.OTP_SENDS_PER_HOUR, settings.OTP_TTL_SECONDS,
              application_id, purpose, target, _code_digest(request_id, code), SENDS_WINDOW_SECONDS],
    )
    if found[0] == 3:
        admission.verdict(found[1], found[2])
    if found[0] == 1:
        raise ResendTooSoon(found[1] / 1000)
    if found[0] == 2:
        raise TooManySends(found[1] / 1000)
    return IssuedCode(request_id=request_id, code=code, resend_timer=settings.OTP_RESEND_SECONDS,
                      expires_in=settings.OTP_TTL_SECONDS)


def current_request_id(application_id: str, purpose: str, target: str) -> str | None:
    """The request id of the live code sent to ``target`` (verifyEmailOTP names the email, not a request id)."""
    pointer = keyspace.connection().get(keyspace.key("otp", "cur", keyspace.digest(application_id, purpose, target)))
    if not pointer:
        return None
    pointer = pointer.decode() if isinstance(pointer, bytes) else pointer
    return pointer.rsplit(":", 1)[-1]


def code_target(application_id: str, purpose: str, request_id) -> str | None:
    """Where the code ``request_id`` of this application and purpose was sent, read from the request id (no
    round trip; the code may be used up or expired since); None for anything else than such a request id.
    verifyMobileOTP names only the request id: the lockout counts by the mobile."""
    if not isinstance(request_id, str) or not request_id or len(request_id) > MAX_REQUEST_ID:
        return None
    try:
        raw = base64.urlsafe_b64decode(request_id + "=" * (-len(request_id) % 4))
        return _request_id_cipher(settings.SECRET_KEY).decrypt(
            raw[:12], raw[12:], f"{application_id}\x1f{purpose}".encode()).decode()
    except (ValueError, InvalidTag, UnicodeDecodeError):
        return None


def check_code(application_id: str, purpose: str, request_id: str | None, code: str, target: str | None = None,
               *, admission: limits.Admission = limits.NOTHING_TO_ADMIT, clear: list[str] = (),
               then: store.Session | None = None) -> str:
    """The code's target when ``code`` is right (the code is then used up, its resend timer ended, the keys
    in ``clear`` deleted and the session ``then`` stored, in the same round trip); CodeInvalid /
    CodeExpired. The attempt is first counted and checked by ``admission`` (RateLimited, AccountLocked), in
    the same script. Without ``request_id`` the live code of ``target`` is meant."""
    if not request_id and target:
        request_id = current_request_id(application_id, purpose, target)
    if not isinstance(request_id, str) or not request_id or len(request_id) > MAX_REQUEST_ID:
        admission.enforce()
        raise CodeExpired()
    given = _code_digest(request_id, "" if code is None else str(code))
    keys = [*admission.keys, _code_key(request_id), *clear]
    args = [*admission.args, application_id, purpose, settings.OTP_MAX_ATTEMPTS, target or "", given, len(clear)]
    if then is None:
        found = keyspace.script(_ADMIT_AND_USE)(keys=keys, args=args)
    else:
        session_keys, session_args = store.save_keys_and_args(then)
        found = keyspace.script(_ADMIT_USE_AND_SAVE)(keys=keys + session_keys, args=args + session_args)
    if found[0] == 3:
        admission.verdict(found[1], found[2])
    if found[0] == 1:
        # A used code also ended its resend timer: signing in by code right after signing up must not wait.
        return found[1].decode() if isinstance(found[1], bytes) else found[1]
    if found[0] == 0:
        raise CodeExpired()
    raise CodeInvalid(max(0, settings.OTP_MAX_ATTEMPTS - int(found[1])))


# ----------------------------------------------------------------------------- tokens

def _token_key(kind: str, application_id: str, token) -> str | None:
    if kind not in TOKEN_KINDS:
        raise ValueError(f"unknown token kind {kind!r}")
    if not isinstance(token, str) or not token or len(token) > 128:
        return None
    return keyspace.key("tok", kind, application_id, hashlib.sha256(token.encode()).hexdigest())


def issue_token(kind: str, application_id: str, data: dict, ttl: int) -> str:
    token = secrets.token_urlsafe(32)  # 256 bits
    keyspace.connection().set(_token_key(kind, application_id, token), json.dumps(data), ex=int(ttl))
    return token


def take_token(kind: str, application_id: str, token: str) -> dict:
    """The token's data, the token deleted in the same command; TokenInvalid when unknown, used or expired."""
    key = _token_key(kind, application_id, token)
    raw = keyspace.connection().getdel(key) if key else None
    if raw is None:
        raise TokenInvalid()
    return json.loads(raw)


def peek_token(kind: str, application_id: str, token: str) -> dict:
    """The token's data, the token left in place (e.g. to show a reset form before it is submitted)."""
    key = _token_key(kind, application_id, token)
    raw = keyspace.connection().get(key) if key else None
    if raw is None:
        raise TokenInvalid()
    return json.loads(raw)
