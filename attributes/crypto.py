"""Encryption at rest of attribute values, and keyed digests for equality on them.

- Keys: ``settings.ATTRIBUTE_ENCRYPTION_KEYS`` (Fernet keys; the first encrypts, every one decrypts, so a
  new key is put first and the old ones stay until ``manage.py rotate_attribute_keys`` has re-encrypted
  everything). Empty: one key derived from ``SECRET_KEY`` with HKDF-SHA256.
- Digests: HMAC-SHA256 of the canonical JSON of one element, keyed per Fernet key (HKDF of that key
  with its own info string, so the digest key never equals the encryption key). Rows are written with
  the first key's digest; lookups try every key's digest, so equality keeps working during a rotation.

Nothing here logs, and no error message carries a value.
"""

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.crypto import hkdf as _hkdf

FERNET_INFO = b"customer-attributes/fernet/v1"
DIGEST_INFO = b"customer-attributes/digest/v1"


class DecryptionFailed(Exception):
    """A stored ciphertext that no configured key opens (a key was removed too early)."""


@lru_cache(maxsize=8)
def _keyring(keys: tuple[str, ...], secret_key: str):
    if keys:
        raw_keys = []
        for index, key in enumerate(keys):
            try:
                raw = base64.urlsafe_b64decode(key.encode())
                Fernet(key.encode())
            except (ValueError, TypeError):
                raise ImproperlyConfigured(f"ATTRIBUTE_ENCRYPTION_KEYS[{index}] is not a Fernet key "
                                           "(32 bytes, URL-safe base64; make one with Fernet.generate_key()).")
            raw_keys.append(raw)
    else:
        raw_keys = [_hkdf(secret_key.encode(), FERNET_INFO)]
    fernet = MultiFernet([Fernet(base64.urlsafe_b64encode(raw)) for raw in raw_keys])
    digest_keys = [_hkdf(raw, DIGEST_INFO) for raw in raw_keys]
    return fernet, digest_keys


def keyring():
    """(MultiFernet, [digest key per Fernet key]) for the current settings."""
    return _keyring(tuple(settings.ATTRIBUTE_ENCRYPTION_KEYS), settings.SECRET_KEY)


def encrypt(plaintext: str) -> str:
    return keyring()[0].encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return keyring()[0].decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        raise DecryptionFailed("An encrypted attribute value cannot be decrypted with the configured keys.")


def rotate(token: str) -> str:
    """The same plaintext encrypted with the first key."""
    return keyring()[0].rotate(token.encode("ascii")).decode("ascii")


def _hmac(key: bytes, canonical: str) -> str:
    return hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def digest(canonical: str) -> str:
    """The digest stored in index rows (first key)."""
    return _hmac(keyring()[1][0], canonical)


def digest_candidates(canonical: str) -> list[str]:
    """Every key's digest of a canonical element: what an equality filter looks for."""
    return [_hmac(key, canonical) for key in keyring()[1]]
