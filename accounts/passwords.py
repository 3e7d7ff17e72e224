"""Passwords under ``password_settings`` of the platform config: the rules (``configs``), ``history``
and ``expiry``; hashing and checking through Django's hashers (Argon2id, accounts.hashers).

``check`` costs one hash verification whether or not the customer has a password: without one it
verifies against a dummy hash made once per process, so sign-in time does not tell which identifiers
exist.
"""

import secrets
import threading
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.utils import timezone

from core.api.errors import ValidationFailed

_dummy_lock = threading.Lock()
_dummy_hash: str | None = None


def unmet_rules(password: str, password_settings: dict) -> list[str]:
    """Every rule of ``password_settings.configs`` (and PASSWORD_MAX_LENGTH) that ``password`` breaks."""
    configs = (password_settings or {}).get("configs") or {}
    minimum = int(configs.get("length") or 0)
    unmet = []
    if len(password) < minimum:
        unmet.append(f"must be at least {minimum} characters long")
    if len(password) > settings.PASSWORD_MAX_LENGTH:
        unmet.append(f"must be at most {settings.PASSWORD_MAX_LENGTH} characters long")
    if configs.get("require_number") and not any(c.isdigit() for c in password):
        unmet.append("must contain a number")
    if configs.get("require_capital_character") and not any(c.isupper() for c in password):
        unmet.append("must contain a capital letter")
    if configs.get("require_special_character") and not any(_special(c) for c in password):
        unmet.append("must contain a special character (neither a letter, a digit nor a space)")
    return unmet


def _special(char: str) -> bool:
    return not char.isalnum() and not char.isspace()


def validate(password, password_settings: dict, field: str = "password") -> None:
    """ValidationFailed (400) naming every unmet rule, in the serializers' format."""
    if not isinstance(password, str) or not password:
        unmet = ["is required"]
    else:
        unmet = unmet_rules(password, password_settings)
    if unmet:
        message = f"{field}: " + "; ".join(unmet) + "."
        raise ValidationFailed(message, meta={"errors": {field: [f"{rule}." for rule in unmet]}})


def hash_password(password: str) -> str:
    return make_password(password)


def _dummy() -> str:
    global _dummy_hash
    if _dummy_hash is None:
        with _dummy_lock:
            if _dummy_hash is None:
                _dummy_hash = make_password(secrets.token_urlsafe(24))
    return _dummy_hash


def check(credential, password, *, on_upgrade=None) -> bool:
    """True when ``password`` is the credential's. Without a credential: one verification of a dummy hash,
    then False. ``on_upgrade(new_hash)`` is called when the stored hash used older parameters."""
    if not isinstance(password, str):
        password = ""
    if credential is None or not credential.password:
        check_password(password, _dummy())
        return False
    setter = (lambda raw: on_upgrade(make_password(raw))) if on_upgrade else None
    return check_password(password, credential.password, setter=setter)


def reused(password: str, credential, history_count: int) -> bool:
    """Whether ``password`` is one of the customer's last ``history_count`` passwords: the current one
    and the ``history_count - 1`` before it."""
    if credential is None or history_count <= 0:
        return False
    recent = [credential.password, *credential.previous_passwords[: history_count - 1]]
    return any(check_password(password, encoded) for encoded in recent if encoded)


def previous_after_change(credential) -> list[str]:
    """``previous_passwords`` once the current hash is replaced: it goes first, at most PASSWORD_HISTORY_MAX."""
    if credential is None:
        return []
    return [credential.password, *credential.previous_passwords][: settings.PASSWORD_HISTORY_MAX]


def expired(credential, expiry_settings: dict) -> bool:
    """``password_settings.expiry``: when required, a password older than ``duration`` days has expired."""
    expiry_settings = expiry_settings or {}
    if credential is None or not expiry_settings.get("required"):
        return False
    days = int(expiry_settings.get("duration") or 0)
    return credential.password_changed_at + timedelta(days=days) <= timezone.now()
