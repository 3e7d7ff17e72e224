"""What a new customer's rows hold, written once for every writer: the API's service (``users.services``,
through the ORM), the import (``users.transfers.imports``, through COPY) and the bench's seed (``bench/seed.py``).

- The values of a row are a dict ``{attname: value}`` (what ``Model(**values)`` takes), built by the
  ``*_values`` functions below: the username rule, the flags of a new customer's contacts and of the
  contacts an import adds, and the audit payloads of ``customer.created`` / ``customer.updated``.
- A value not given is the model field's default (``users/models.py`` holds the defaults of a new
  customer: active, not archived, version 0, …); the ORM applies them itself, and a ``CopyTable`` does
  the same for COPY. Its column list is the model's (``_meta``), so a new column with a default needs
  no change in any writer.
"""

from __future__ import annotations

import json
import random
import re
from operator import itemgetter

from django.db import models

from core.actors import Actor
from users import events
from users.models import AuditEvent, Customer, CustomerEmail, CustomerPhone


_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)  # built once: json.dumps(…) builds one per call


def json_text(value) -> str:
    if type(value) is dict and not value:  # most rows: no meta, no data
        return "{}"
    return _JSON.encode(value)


class CopyTable:
    """A model's table as COPY writes it: every concrete column but a database-generated id, in model
    order; ``row(values)`` is the tuple of one row, each missing value the field's default (JSON as text).
    A field without a default (and not nullable) must be given, or ``row`` raises KeyError naming it.
    ``include``: fields with a database default to write all the same (left out otherwise)."""

    def __init__(self, model: type[models.Model], include: tuple = ()):
        fields = [f for f in model._meta.concrete_fields if not f.db_returning or f.name in include]
        self.table = model._meta.db_table
        self.columns = tuple(f.column for f in fields)
        names = ", ".join(f'"{column}"' for column in self.columns)
        self.copy_sql = f"COPY {self.table} ({names}) FROM STDIN"
        self._constants, self._factories = {}, {}
        for f in fields:
            if f.has_default():
                (self._factories if callable(f.default) else self._constants)[f.attname] = f.default
            elif f.null:
                self._constants[f.attname] = None
        self._json = tuple(f.attname for f in fields if isinstance(f, models.JSONField))
        self._pick = itemgetter(*(f.attname for f in fields))
        if not self._factories and not self._json:
            self.row = self._plain_row  # emails and phones: nothing to compute

    def row(self, values: dict) -> tuple:
        row = {**self._constants, **values}
        for name, make in self._factories.items():
            if name not in values:
                row[name] = make()
        for name in self._json:
            row[name] = json_text(row[name])
        return self._pick(row)

    def _plain_row(self, values: dict) -> tuple:
        return self._pick({**self._constants, **values})

    def copy(self, cursor, rows) -> None:
        """COPY ``rows`` (tuples of ``row``) in, through a psycopg 3 cursor."""
        with cursor.copy(self.copy_sql) as copy:
            for row in rows:
                copy.write_row(row)


CUSTOMERS = CopyTable(Customer)
EMAILS = CopyTable(CustomerEmail)
PHONES = CopyTable(CustomerPhone)
# ``published`` and ``version`` have database defaults (migration 0007) and would be left out: the bulk writers
# set published false (their rows are timeline entries; the job's summary is the event).
AUDIT_EVENTS = CopyTable(AuditEvent, include=("published", "version"))


# --------------------------------------------------------------------------- customers

_USERNAME_SAFE = re.compile(r"[^a-z0-9_.-]+")


def generate_username(email: str | None, phone) -> str:
    """The email's local part (or the phone) and 8 random hex digits. The suffix only makes collisions
    unlikely, nothing secret: ``random`` spares the import a system call per row (``secrets`` made one)."""
    base = email.split("@")[0] if email else phone.national
    base = _USERNAME_SAFE.sub("_", base.lower()).strip("_")[:40] or "user"
    return f"{base}_{random.getrandbits(32):08x}"


def username_for(given: str | None, email: str | None, phone) -> str:
    """createUser's rule: the username given, else one made from the email's local part or the phone."""
    return (given or "").strip() or generate_username(email, phone)


def customer_values(application_id: str, username: str, profile: dict, **given) -> dict:
    """A new customer: ``profile`` (first_name, last_name, gender, dob, external_id, rr_id, meta; any
    subset) and ``given`` (e.g. id, created_at) over the model's defaults."""
    return {"application_id": application_id, "username": username, **profile, **given}


# --------------------------------------------------------------------------- emails and phones
# A new customer's email and phone are its primary ones. A contact an import adds to a customer it
# found: an email is primary when the customer had none, a phone never is. Contacts start unverified
# and active (the models' defaults) unless told otherwise.

def email_values(customer_id: str, application_id: str, email: str, *, primary: bool, **flags) -> dict:
    return {"customer_id": customer_id, "application_id": application_id, "email": email, "primary": primary,
            **flags}


def phone_values(customer_id: str, application_id: str, phone, *, primary: bool, **flags) -> dict:
    """``phone``: a users.contacts.Phone."""
    return {"customer_id": customer_id, "application_id": application_id, "phone": phone.national,
            "country_code": phone.country_code, "e164": phone.e164, "primary": primary, **flags}


def first_email(customer_id: str, application_id: str, email: str, **flags) -> dict:
    return email_values(customer_id, application_id, email, primary=True, **flags)


def first_phone(customer_id: str, application_id: str, phone, **flags) -> dict:
    return phone_values(customer_id, application_id, phone, primary=True, **flags)


def added_email(customer_id: str, application_id: str, email: str, *, customer_has_email: bool) -> dict:
    return email_values(customer_id, application_id, email, primary=not customer_has_email)


def added_phone(customer_id: str, application_id: str, phone) -> dict:
    return phone_values(customer_id, application_id, phone, primary=False)


# --------------------------------------------------------------------------- audit events

def audit_values(application_id: str, customer_id: str, action: str, actor: Actor, *, reason: str = "",
                 data: dict | None = None, **given) -> dict:
    return {"application_id": application_id, "customer_id": customer_id, "action": action, "reason": reason or "",
            "actor_type": actor.type, "actor_id": actor.id, "actor_name": actor.name[:200], "data": data or {},
            "request_id": actor.request_id, **given}


def created_event(application_id: str, customer_id: str, actor: Actor, *, username: str, email: str | None, phone,
                  source: dict | None = None, **given) -> dict:
    """``customer.created``: who the new customer is known as (``source``: where the write came from)."""
    data = {"username": username, "email": email or "", "phone": phone.e164 if phone else "", **(source or {})}
    return audit_values(application_id, customer_id, events.CUSTOMER_CREATED, actor, data=data, **given)


def updated_event(application_id: str, customer_id: str, actor: Actor, changed: dict, *, source: dict | None = None,
                  **given) -> dict:
    """``customer.updated``: ``changed`` maps each field set to its new value (JSON-ready)."""
    data = {"changed": changed, **(source or {})}
    return audit_values(application_id, customer_id, events.CUSTOMER_UPDATED, actor, data=data, **given)
