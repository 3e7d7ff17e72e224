"""Passwords under ``password_settings`` of the platform config: the rules (``configs``), ``history``
and ``expiry``; hashing and checking through Django's hashers (Argon2id, accounts.hashers).

``check`` costs one hash verification whether or not the customer has a password: without one it
verifies against a dummy hash made once per process, so sign-in time does not tell which identifiers
exist.

A hash moved in from another platform (accounts.legacy_hashes, docs/migration.md) is stored as
``legacy$<hash as given>`` and the customer has ``has_old_password_hash``. ``check`` verifies it; on the
first success it re-hashes the password with our hasher and clears the flag, in one transaction.
"""

import json
import secrets
import threading
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import connection, transaction
from django.utils import timezone

from accounts import legacy_hashes
from accounts.models import Credential
from core.api.errors import ValidationFailed
from users.customer_rows import CopyTable
from users.models import Customer

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
    if legacy_hashes.is_stored_foreign(credential.password):
        return _check_foreign(credential, password)
    setter = (lambda raw: on_upgrade(make_password(raw))) if on_upgrade else None
    return check_password(password, credential.password, setter=setter)


def _check_foreign(credential, password: str) -> bool:
    """An imported hash: verified (a salted digest, which takes microseconds, also costs the dummy hash);
    on success the password is re-hashed with our hasher and the customer's flag cleared. The write only
    replaces the hash it verified (a concurrent password change wins)."""
    foreign = credential.password
    value = foreign[len(legacy_hashes.PREFIX):]
    try:
        cheap = legacy_hashes.recognise(value).cheap
    except legacy_hashes.Unrecognised:
        cheap = True
    matches = legacy_hashes.verify(password, value)
    if cheap:
        check_password(password, _dummy())
    if matches:
        rehashed = make_password(password)
        with transaction.atomic():
            if Credential.objects.filter(pk=credential.pk, password=foreign).update(password=rehashed):
                credential.password = rehashed
                clear_old_hash_flag(credential.pk)
    return matches


def clear_old_hash_flag(customer_id: str) -> None:
    """The customer's password is ours now (re-hashed at sign-in, or a new one set)."""
    Customer.objects.filter(pk=customer_id, has_old_password_hash=True).update(has_old_password_hash=False)


def matches_encoded(password: str, encoded: str) -> bool:
    """``password`` against one stored value (ours or an imported ``legacy$`` one), without side effects."""
    if legacy_hashes.is_stored_foreign(encoded):
        return legacy_hashes.verify(password, encoded[len(legacy_hashes.PREFIX):])
    return check_password(password, encoded)


def reused(password: str, credential, history_count: int) -> bool:
    """Whether ``password`` is one of the customer's last ``history_count`` passwords: the current one
    and the ``history_count - 1`` before it."""
    if credential is None or history_count <= 0:
        return False
    recent = [credential.password, *credential.previous_passwords[: history_count - 1]]
    return any(matches_encoded(password, encoded) for encoded in recent if encoded)


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


# ----------------------------------------------------------------------------- imported hashes (users.hooks)

class PasswordHashField:
    """``password_hash`` of createUser / updateUser and of the customer import (users.hooks): a hash from
    another platform, checked for its format only (no hashing), stored as ``legacy$<hash>``; the customer
    gets ``has_old_password_hash`` until the first sign-in re-hashes it. A customer's earlier password
    goes to ``previous_passwords`` as with any change."""

    name = "password_hash"
    customer_values = {"has_old_password_hash": True}

    def check(self, value) -> str:
        try:
            legacy_hashes.recognise(value)
        except legacy_hashes.Unrecognised as exc:
            raise ValidationFailed(exc.reason, meta={"errors": {self.name: [exc.reason]}}) from None
        return value

    def store(self, application, values: list, actor, *, new: bool) -> set[str]:
        """The customers whose stored hash changed (users.hooks)."""
        if not values:
            return set()
        now = timezone.now()
        if new:  # customers written in this transaction: nothing to replace, one COPY of plain tuples
            stored = legacy_hashes.stored
            with connection.cursor() as cursor, cursor.cursor.copy(_NEW_CREDENTIALS_COPY) as copy:
                for customer_id, value in values:
                    copy.write_row((customer_id, stored(value), now, "[]"))
            return {customer_id for customer_id, _ in values}
        wanted = {customer_id: legacy_hashes.stored(value) for customer_id, value in values}
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT customer_id, password, previous_passwords::text FROM {_CREDENTIALS.table} "
                           "WHERE customer_id = ANY(%s::text[]) ORDER BY customer_id FOR UPDATE", [list(wanted)])
            current = {row[0]: (row[1], json.loads(row[2])) for row in cursor.fetchall()}
            ids, hashes, history = [], [], []
            for customer_id, encoded in wanted.items():
                old = current.get(customer_id)
                if old is not None and old[0] == encoded:
                    continue  # the same hash again (a file imported twice)
                ids.append(customer_id)
                hashes.append(encoded)
                history.append(json.dumps([old[0], *old[1]][: settings.PASSWORD_HISTORY_MAX] if old else []))
            if ids:
                cursor.execute(
                    f"INSERT INTO {_CREDENTIALS.table} (customer_id, password, password_changed_at, previous_passwords) "
                    "SELECT v.id, v.password, %s, v.history::jsonb "
                    "FROM unnest(%s::text[], %s::text[], %s::text[]) AS v(id, password, history) "
                    "ON CONFLICT (customer_id) DO UPDATE SET password = EXCLUDED.password, "
                    "password_changed_at = EXCLUDED.password_changed_at, previous_passwords = EXCLUDED.previous_passwords",
                    [now, ids, hashes, history])
        return set(ids)


_CREDENTIALS = CopyTable(Credential)
# A new customer's imported hash (a million in a bulk import: no per-row dict, the empty history as text)
_NEW_CREDENTIALS_COPY = (f"COPY {_CREDENTIALS.table} (customer_id, password, password_changed_at, previous_passwords) "
                         "FROM STDIN")
