"""Keys derived from SECRET_KEY (HKDF-SHA256, one ``info`` string per use, so no two uses share a key)."""

import base64
from functools import lru_cache

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def hkdf(material: bytes, info: bytes) -> bytes:
    """32 bytes of key for ``info`` from ``material``."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(material)


@lru_cache(maxsize=16)
def _fernet(secret_key: str, info: bytes) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hkdf(secret_key.encode(), info)))


def secret_key_fernet(info: bytes) -> Fernet:
    """A Fernet (authenticated encryption) whose key is derived from SECRET_KEY for ``info``: secrets the
    service must read back (a webhook's signing secret), encrypted at rest. Changing SECRET_KEY makes them
    unreadable, as it makes sessions and signed links invalid."""
    return _fernet(settings.SECRET_KEY, info)
