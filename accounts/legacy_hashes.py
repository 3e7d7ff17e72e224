"""Password hashes moved in from another platform (docs/migration.md): recognised by their format at
import (a parse, never a hash computation) and verified at the customer's first sign-in, after which
accounts.passwords re-hashes the password with the service's own hasher.

Accepted formats (the same list, with an example each, is in docs/migration.md):

- bcrypt ``$2a$`` / ``$2b$`` / ``$2y$`` (cost 4 to 15; passwords past 72 bytes are cut at 72, as bcrypt does);
- Argon2 ``$argon2id$`` / ``$argon2i$`` (PHC string; memory up to 1 GiB, time cost up to 10, lanes up to 16);
- PBKDF2 in passlib's modular format ``$pbkdf2-sha256$<rounds>$<salt>$<hash>`` and ``$pbkdf2-sha512$…``
  (salt and hash in passlib's "adapted base64": ``.`` for ``+``, no padding), and Werkzeug's
  ``pbkdf2:sha256:<rounds>$<salt>$<hex hash>`` (also ``pbkdf2:sha512``); rounds up to 10,000,000;
- Django's formats: ``pbkdf2_sha256$``, ``pbkdf2_sha1$``, ``argon2$``, ``bcrypt_sha256$``, ``bcrypt$``,
  ``scrypt$`` (verified by Django's own hashers; ``bcrypt$`` by bcrypt directly, cut at 72 bytes);
- salted digests ``md5$<salt>$<hex>``, ``sha1$<salt>$<hex>``, ``sha256$<salt>$<hex>``: the hex digest of
  the UTF-8 bytes of salt + password, salt first (Django's old MD5 / SHA1 hashers wrote exactly this).
  No other order and no unsalted digest.

Every verification compares in constant time (the libraries' own checks, ``hmac.compare_digest``), and
the cost a hash may ask for is bounded, so an imported file cannot make sign-ins a denial of service.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass

import bcrypt
from argon2 import PasswordHasher as _Argon2Verifier
from argon2.exceptions import Argon2Error
from django.contrib.auth.hashers import (
    Argon2PasswordHasher,
    BCryptSHA256PasswordHasher,
    PBKDF2PasswordHasher,
    PBKDF2SHA1PasswordHasher,
    ScryptPasswordHasher,
)

# How the service stores a foreign hash in Credential.password: this prefix, then the hash as given.
# Django's check_password knows no "legacy" algorithm, so such a value never verifies by accident.
PREFIX = "legacy$"
MAX_LENGTH = 256 - len(PREFIX)  # Credential.password is 256 characters

MAX_BCRYPT_COST = 15
MAX_PBKDF2_ROUNDS = 10_000_000
MAX_ARGON2_MEMORY_KIB = 1024 * 1024  # 1 GiB
MAX_ARGON2_TIME_COST = 10
MAX_ARGON2_LANES = 16
MAX_SCRYPT_MEMORY = 32 * 1024 * 1024  # 128·N·r below OpenSSL's default limit, which Django's hasher uses
MAX_SCRYPT_PARALLELISM = 16

SALTED_DIGESTS = {"md5": 32, "sha1": 40, "sha256": 64}  # algorithm -> hex digest length
PBKDF2_DIGESTS = {"sha256": 32, "sha512": 64}  # passlib / Werkzeug digest -> hash bytes


class Unrecognised(ValueError):
    """The value is no accepted hash; ``reason`` says why (it never repeats the value)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Recognised:
    scheme: str  # e.g. "bcrypt", "argon2id", "pbkdf2-sha256", "werkzeug-pbkdf2-sha256", "django-pbkdf2_sha256", "md5"
    cheap: bool  # verifies in microseconds: sign-in spends a dummy hash beside it (timing)


_B64 = r"[A-Za-z0-9+/]"
_AB64 = r"[A-Za-z0-9./]"
_BCRYPT = re.compile(r"\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}")
_ARGON2 = re.compile(rf"\$(argon2id|argon2i)\$(?:v=(\d+)\$)?m=(\d{{1,10}}),t=(\d{{1,10}}),p=(\d{{1,3}})"
                     rf"\$({_B64}{{11,}})\$({_B64}{{16,}})")
_PASSLIB_PBKDF2 = re.compile(rf"\$pbkdf2-(sha256|sha512)\$(\d{{1,10}})\$({_AB64}{{1,256}})\$({_AB64}+)")
_WERKZEUG_PBKDF2 = re.compile(r"pbkdf2:(sha256|sha512):(\d{1,10})\$([^$\s]{1,128})\$([0-9a-f]+)")
_DJANGO_PBKDF2 = re.compile(rf"(pbkdf2_sha256|pbkdf2_sha1)\$(\d{{1,10}})\$([^$\s]{{1,128}})\${_B64}{{20,}}={{0,2}}")
_DJANGO_SCRYPT = re.compile(rf"scrypt\$(\d{{1,10}})\$([^$\s]{{1,128}})\$(\d{{1,4}})\$(\d{{1,4}})\${_B64}{{20,}}={{0,2}}")
_SALTED = re.compile(r"(md5|sha1|sha256)\$([^$]*)\$([0-9a-fA-F]*)")

_UNSUPPORTED = (
    (re.compile(r"\$[156]\$"), "crypt(3) MD5 / SHA-crypt hashes ($1$, $5$, $6$) are not accepted"),
    (re.compile(r"\$[PH]\$"), "phpass portable hashes ($P$, $H$) are not accepted"),
    (re.compile(r"\{[A-Z0-9-]+\}"), "LDAP-style {SCHEME} hashes are not accepted"),
    (re.compile(r"\$argon2d\$"), "Argon2d is not accepted (use Argon2id or Argon2i hashes)"),
    (re.compile(r"\$pbkdf2(-sha1)?\$"), "passlib's PBKDF2-SHA1 is not accepted (PBKDF2-SHA256 and -SHA512 are)"),
    (re.compile(r"(unsalted_md5|unsalted_sha1|crypt)\$"), "Django's unsalted and crypt hashers are not accepted"),
    (re.compile(r"(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64}|[0-9a-fA-F]{128})\Z"),
     "an unsalted hex digest is not accepted: give salted digests as algo$salt$hash"),
)
FORMATS_HINT = ("accepted: bcrypt ($2a$/$2b$/$2y$), Argon2 ($argon2id$/$argon2i$), $pbkdf2-sha256$ / "
                "$pbkdf2-sha512$, Werkzeug pbkdf2:sha256:, Django's (pbkdf2_sha256$, argon2$, bcrypt_sha256$, "
                "bcrypt$, scrypt$), and md5$salt$hash, sha1$salt$hash, sha256$salt$hash")


def _fail(reason: str):
    raise Unrecognised(f"password_hash: {reason}.")


# --------------------------------------------------------------------------- recognising (cheap: no hashing)

def _bcrypt_cost(match, what="bcrypt") -> None:
    cost = int(match.group(1))
    if cost < 4:
        _fail(f"{what} cost {cost} is below 4 (malformed)")
    if cost > MAX_BCRYPT_COST:
        _fail(f"{what} cost {cost} is above the accepted maximum {MAX_BCRYPT_COST}")


def _argon2_params(match) -> None:
    version, memory, time_cost, lanes = match.group(2), int(match.group(3)), int(match.group(4)), int(match.group(5))
    if version is not None and version not in ("16", "19"):
        _fail(f"Argon2 version v={version} is unknown (16 or 19)")
    if not 1 <= lanes <= MAX_ARGON2_LANES:
        _fail(f"Argon2 parallelism p={lanes} is outside 1 to {MAX_ARGON2_LANES}")
    if not 1 <= time_cost <= MAX_ARGON2_TIME_COST:
        _fail(f"Argon2 time cost t={time_cost} is outside 1 to {MAX_ARGON2_TIME_COST}")
    if not 8 * lanes <= memory <= MAX_ARGON2_MEMORY_KIB:
        _fail(f"Argon2 memory m={memory} KiB is outside {8 * lanes} to {MAX_ARGON2_MEMORY_KIB} (1 GiB)")


def _rounds(text: str, what: str) -> int:
    rounds = int(text)
    if not 1 <= rounds <= MAX_PBKDF2_ROUNDS:
        _fail(f"{what} rounds {rounds} are outside 1 to {MAX_PBKDF2_ROUNDS:,}")
    return rounds


def _ab64(text: str) -> bytes:
    """passlib's adapted base64: ``.`` for ``+``, no padding."""
    text = text.replace(".", "+")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def recognise(value) -> Recognised:
    """The scheme of ``value`` (a hash as the other platform stored it); Unrecognised with the reason."""
    if not isinstance(value, str) or not value:
        _fail("must be a non-empty string")
    if len(value) > MAX_LENGTH:
        _fail(f"must be at most {MAX_LENGTH} characters")
    if not value.isascii() or not value.isprintable() or " " in value:
        _fail("must be printable ASCII without spaces")
    if value.startswith("$2"):
        match = _BCRYPT.fullmatch(value)
        if not match:
            _fail("malformed bcrypt hash (expected $2b$<two-digit cost>$<53 characters>)")
        _bcrypt_cost(match)
        return Recognised("bcrypt", cheap=False)
    if value.startswith(("$argon2id$", "$argon2i$")):
        match = _ARGON2.fullmatch(value)
        if not match:
            _fail("malformed Argon2 hash (expected $argon2id$v=19$m=<KiB>,t=<n>,p=<n>$<salt>$<hash>)")
        _argon2_params(match)
        return Recognised(match.group(1), cheap=False)
    if value.startswith(("$pbkdf2-sha256$", "$pbkdf2-sha512$")):
        match = _PASSLIB_PBKDF2.fullmatch(value)
        if not match:
            _fail("malformed PBKDF2 hash (expected $pbkdf2-sha256$<rounds>$<salt>$<hash>, adapted base64)")
        digest = match.group(1)
        _rounds(match.group(2), f"pbkdf2-{digest}")
        try:
            salt, checksum = _ab64(match.group(3)), _ab64(match.group(4))
        except (binascii.Error, ValueError):
            _fail(f"pbkdf2-{digest}: the salt or hash is not adapted base64")
        if not salt or len(checksum) != PBKDF2_DIGESTS[digest]:
            _fail(f"pbkdf2-{digest}: the hash must be {PBKDF2_DIGESTS[digest]} bytes and the salt not empty")
        return Recognised(f"pbkdf2-{digest}", cheap=False)
    if value.startswith("pbkdf2:"):
        match = _WERKZEUG_PBKDF2.fullmatch(value)
        if not match:
            _fail("malformed Werkzeug hash (expected pbkdf2:sha256:<rounds>$<salt>$<hex hash>)")
        digest = match.group(1)
        _rounds(match.group(2), f"pbkdf2:{digest}")
        if len(match.group(4)) != 2 * PBKDF2_DIGESTS[digest]:
            _fail(f"pbkdf2:{digest}: the hash must be {2 * PBKDF2_DIGESTS[digest]} hex digits")
        return Recognised(f"werkzeug-pbkdf2-{digest}", cheap=False)
    algorithm = value.split("$", 1)[0]
    if algorithm in ("pbkdf2_sha256", "pbkdf2_sha1"):
        match = _DJANGO_PBKDF2.fullmatch(value)
        if not match:
            _fail(f"malformed Django {algorithm} hash (expected {algorithm}$<iterations>$<salt>$<base64 hash>)")
        _rounds(match.group(2), algorithm)
        return Recognised(f"django-{algorithm}", cheap=False)
    if algorithm == "argon2":
        match = _ARGON2.fullmatch(value[len("argon2"):])
        if not match:
            _fail("malformed Django argon2 hash (expected argon2$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>)")
        _argon2_params(match)
        return Recognised("django-argon2", cheap=False)
    if algorithm in ("bcrypt_sha256", "bcrypt"):
        match = _BCRYPT.fullmatch(value[len(algorithm) + 1:])
        if not match:
            _fail(f"malformed Django {algorithm} hash (expected {algorithm}$$2b$<cost>$<53 characters>)")
        _bcrypt_cost(match, algorithm)
        return Recognised(f"django-{algorithm}", cheap=False)
    if algorithm == "scrypt":
        match = _DJANGO_SCRYPT.fullmatch(value)
        if not match:
            _fail("malformed Django scrypt hash (expected scrypt$<N>$<salt>$<r>$<p>$<base64 hash>)")
        n, r, p = int(match.group(1)), int(match.group(3)), int(match.group(4))
        if n < 2 or n & (n - 1) or r < 1 or not 1 <= p <= MAX_SCRYPT_PARALLELISM:
            _fail("scrypt: N must be a power of two, r at least 1, p between 1 and 16")
        if 128 * n * r >= MAX_SCRYPT_MEMORY:
            _fail("scrypt: N·r asks for 32 MiB of memory or more")
        return Recognised("django-scrypt", cheap=False)
    if algorithm in SALTED_DIGESTS:
        match = _SALTED.fullmatch(value)
        if not match:
            _fail(f"malformed {algorithm} digest (expected {algorithm}$<salt>$<hex digest of salt+password>)")
        if not match.group(2):
            _fail(f"an unsalted {algorithm} digest is not accepted")
        if len(match.group(2)) > 128:
            _fail(f"the {algorithm} salt must be at most 128 characters")
        if len(match.group(3)) != SALTED_DIGESTS[algorithm]:
            _fail(f"a {algorithm} digest is {SALTED_DIGESTS[algorithm]} hex digits")
        return Recognised(algorithm, cheap=True)
    for pattern, reason in _UNSUPPORTED:
        if pattern.match(value):
            _fail(reason)
    _fail(f"not a recognised hash format ({FORMATS_HINT})")


def stored(value: str) -> str:
    """What Credential.password holds for an imported ``value`` (already recognised)."""
    return PREFIX + value


def is_stored_foreign(encoded: str) -> bool:
    return bool(encoded) and encoded.startswith(PREFIX)


# --------------------------------------------------------------------------- verifying (at sign-in)

def _bcrypt_verify(password: bytes, hashed: str) -> bool:
    # bcrypt uses the first 72 bytes of the password; the bcrypt package (5.x) refuses longer ones.
    return bcrypt.checkpw(password[:72], hashed.encode("ascii"))


def _pbkdf2_verify(password: bytes, digest: str, salt: bytes, rounds: int, expected: bytes) -> bool:
    computed = hashlib.pbkdf2_hmac(digest, password, salt, rounds, dklen=len(expected))
    return hmac.compare_digest(computed, expected)


def verify(password: str, value: str) -> bool:
    """Whether ``password`` is the one ``value`` (an imported hash, without PREFIX) was made from.
    False for a value that is (no longer) recognised: nothing raises on a bad stored value."""
    try:
        recognised = recognise(value)
    except Unrecognised:
        return False
    raw = password.encode("utf-8")
    scheme = recognised.scheme
    try:
        if scheme == "bcrypt":
            return _bcrypt_verify(raw, value)
        if scheme in ("argon2id", "argon2i"):
            return _Argon2Verifier().verify(value, password)
        if scheme.startswith("pbkdf2-"):
            _, digest, rounds, salt, checksum = value.split("$")
            digest = digest.removeprefix("pbkdf2-")
            return _pbkdf2_verify(raw, digest, _ab64(salt), int(rounds), _ab64(checksum))
        if scheme.startswith("werkzeug-"):
            method, salt, hex_hash = value.split("$")
            _, digest, rounds = method.split(":")
            return _pbkdf2_verify(raw, digest, salt.encode("utf-8"), int(rounds), bytes.fromhex(hex_hash))
        if scheme == "django-pbkdf2_sha256":
            return PBKDF2PasswordHasher().verify(password, value)
        if scheme == "django-pbkdf2_sha1":
            return PBKDF2SHA1PasswordHasher().verify(password, value)
        if scheme == "django-argon2":
            return Argon2PasswordHasher().verify(password, value)
        if scheme == "django-bcrypt_sha256":
            return BCryptSHA256PasswordHasher().verify(password, value)
        if scheme == "django-bcrypt":
            return _bcrypt_verify(raw, value[len("bcrypt$"):])
        if scheme == "django-scrypt":
            return ScryptPasswordHasher().verify(password, value)
        if scheme in SALTED_DIGESTS:
            algorithm, salt, hex_hash = value.split("$")
            computed = hashlib.new(algorithm, salt.encode("utf-8") + raw).hexdigest()
            return hmac.compare_digest(computed, hex_hash.lower())
    except (Argon2Error, ValueError):  # a mismatch (argon2) or a value a library refuses after all
        return False
    return False
