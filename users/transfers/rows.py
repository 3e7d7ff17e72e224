"""The columns of an import file and the checks of one row: pure Python, no database.

The rules are createUser's (users.serializers.CreateUserSerializer for the lengths, users.contacts for
the email and phone), applied to text cells: a blank cell means "not given". One row is one customer;
any problem rejects the whole row (nothing of it is written) with every problem named.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from core.api.errors import ServiceError, ValidationFailed
from core.api.fields import JSONObjectField
from users import hooks
from users.contacts import Phone, normalize_email, parse_phone
from users.serializers import CreateUserSerializer

# Profile fields a row may set (on create and on update).
PROFILE_COLUMNS = ("first_name", "last_name", "gender", "dob", "external_id", "rr_id", "meta")
# Every column the import reads, in the order the export writes them.
COLUMNS = ("first_name", "last_name", "email", "phone_number", "country_code", "gender", "dob", "username",
           "external_id", "rr_id", "meta")
REQUIRED_COLUMNS = ("phone_number",)
# Social sign-in identities moved in with the customer (users.LinkedIdentity; the value is the provider's
# subject, i.e. its user id): column -> provider.
IDENTITY_COLUMNS = {"google_id": "google", "facebook_id": "facebook", "apple_id": "apple"}
MAX_SUBJECT_LENGTH = 255
# Columns of the export that the import ignores (so that an exported file imports as it is).
IGNORED_COLUMNS = ("user_id", "_id", "active", "created_at", "updated_at")

_FIELDS = CreateUserSerializer().fields
MAX_LENGTHS = {name: _FIELDS[name].max_length for name in
               ("first_name", "last_name", "gender", "external_id", "rr_id", "username", "email", "phone_number")}
_META_FIELD = JSONObjectField()
MIN_DOB = date(1900, 1, 1)


@dataclass(slots=True)
class ImportRow:
    """One valid row: who (email, phone), what to set (fields), the cells of extra columns
    (users.transfers.columns): provider key -> {lower-cased name -> text}, the social identities to link
    (provider -> subject) and the checked values of hooked fields (users.hooks: name -> parsed value)."""

    row_number: int
    email: str | None
    phone: Phone | None
    username: str  # "" = generate one (createUser's rule)
    fields: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    identities: dict = field(default_factory=dict)
    hooked: dict = field(default_factory=dict)

    @property
    def reference(self) -> str:
        return self.email or (self.phone.e164 if self.phone else "")

    def __reduce__(self):  # the row reader process sends every row to the worker: a plain constructor call
        return ImportRow, (self.row_number, self.email, self.phone, self.username, self.fields, self.extra,
                           self.identities, self.hooked)


@dataclass(frozen=True)
class Header:
    """The file's columns: canonical name of each standard column, and the extra columns."""

    standard: dict  # file column -> canonical column
    extra: dict  # file column -> (provider key, lower-cased name)
    identities: dict = field(default_factory=dict)  # file column -> provider (IDENTITY_COLUMNS)
    hooked: dict = field(default_factory=dict)  # file column -> hooked field name (users.hooks)


def _name(column: str) -> str:
    return column.strip().lower()


def _own_names() -> tuple:
    """Every column this module reads: the customer's, the identities, the hooked fields registered."""
    return COLUMNS + tuple(IDENTITY_COLUMNS) + tuple(name for name in hooks.FIELDS if hooks.hook(name))


def other_names(columns: list[str]) -> list[str]:
    """The header's lower-cased names that are neither customer columns nor ignored ones."""
    own = _own_names()
    return [_name(c) for c in columns if c and _name(c) not in own and _name(c) not in IGNORED_COLUMNS]


def read_header(columns: list[str], claimed: dict[str, str], hints: list[str]) -> Header:
    """Map the header row; ValidationFailed (the job fails) for missing or unknown columns.

    ``claimed``: lower-cased name -> key of the provider that reads it (users.transfers.columns);
    ``hints``: what else a column may be, for the message naming unknown ones."""
    standard, extra, identities, hooked, unknown = {}, {}, {}, {}, []
    for column in columns:
        if not column:
            continue
        name = _name(column)
        if name in COLUMNS:
            standard[column] = name
        elif name in IDENTITY_COLUMNS:
            identities[column] = name
        elif name in hooks.FIELDS and hooks.hook(name):
            hooked[column] = name
        elif name in IGNORED_COLUMNS:
            continue
        elif name in claimed:
            extra[column] = (claimed[name], name)
        else:
            unknown.append(column)
    canonical = [*standard.values(), *identities.values(), *hooked.values(), *(name for _, name in extra.values())]
    repeated = sorted({c for c in canonical if canonical.count(c) > 1})
    if repeated:
        raise ValidationFailed(f"the file names the column(s) {', '.join(repeated)} more than once.")
    missing = [c for c in REQUIRED_COLUMNS if c not in standard.values()]
    if missing:
        raise ValidationFailed(f"the file has no {', '.join(missing)} column (its columns: "
                               f"{', '.join(c for c in columns if c)[:300]}).", code="missing_columns")
    if unknown:
        others = "".join(f", or {hint}" for hint in hints)
        raise ValidationFailed(f"the file has unknown column(s) {', '.join(unknown)[:300]}: use "
                               f"{', '.join(_own_names())}{others}.", code="unknown_columns")
    return Header(standard, extra, {c: IDENTITY_COLUMNS[n] for c, n in identities.items()}, hooked)


def _text(name: str, value: str, problems: list[str]) -> str:
    if "\x00" in value:
        problems.append(f"{name}: must not contain NUL characters.")
    elif len(value) > MAX_LENGTHS[name]:
        problems.append(f"{name}: must be at most {MAX_LENGTHS[name]} characters.")
    return value


def _dob(value: str, problems: list[str]) -> date | None:
    try:
        parsed = date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        parsed = None
    if parsed is None:
        problems.append(f"dob: {value[:40]!r} is not a date written YYYY-MM-DD.")
    elif not MIN_DOB <= parsed <= date.today():
        problems.append(f"dob: {value} must be between {MIN_DOB.isoformat()} and today.")
    return parsed


def _meta(value: str, problems: list[str]) -> dict | None:
    try:
        decoded = json.loads(value)
    except (ValueError, RecursionError):
        problems.append("meta: must be a JSON object such as {\"tier\": \"gold\"}.")
        return None
    try:
        return _META_FIELD.run_validation(decoded)
    except Exception as exc:  # DRF's ValidationError: the field's own message
        detail = getattr(exc, "detail", None)
        problems.append(f"meta: {' '.join(str(d) for d in detail) if isinstance(detail, list) else exc}")
        return None


def parse_row(row_number: int, cells: dict, header: Header) -> ImportRow:
    """The row's cells (file column -> stripped text) checked; ValidationFailed naming every problem."""
    values = {canonical: cells.get(column, "") for column, canonical in header.standard.items()}
    problems: list[str] = []
    email = phone = None
    raw_email, raw_phone = values.get("email", ""), values.get("phone_number", "")
    if raw_email:
        try:
            email = normalize_email(_text("email", raw_email, problems))
        except ServiceError as exc:
            problems.append(exc.message)
    if raw_phone:
        try:
            phone = parse_phone(_text("phone_number", raw_phone, problems), values.get("country_code") or None)
        except ServiceError as exc:
            problems.append(exc.message)
    if not raw_email and not raw_phone:
        problems.append("the row has neither an email nor a phone_number.")
    fields = {}
    for name in PROFILE_COLUMNS:
        value = values.get(name, "")
        if not value:
            continue
        if name == "dob":
            fields[name] = _dob(value, problems)
        elif name == "meta":
            fields[name] = _meta(value, problems)
        else:
            fields[name] = _text(name, value, problems)
    username = values.get("username", "")
    if username:
        _text("username", username, problems)
    identities = {}
    for column, provider in header.identities.items():
        subject = cells.get(column, "")
        if not subject:
            continue
        if len(subject) > MAX_SUBJECT_LENGTH or not subject.isprintable() or " " in subject:
            problems.append(f"{provider}_id: must be at most {MAX_SUBJECT_LENGTH} printable characters without "
                            "spaces.")
        else:
            identities[provider] = subject
    hooked = {}
    for column, name in header.hooked.items():
        if cells.get(column, ""):
            try:  # a format check only (for password_hash: a parse, no hashing)
                hooked[name] = hooks.hook(name).check(cells[column])
            except ServiceError as exc:
                problems.append(exc.message)
    if problems:
        raise ValidationFailed("; ".join(problems))
    extra = {}
    for column, (key, name) in header.extra.items():
        if cells.get(column, ""):
            extra.setdefault(key, {})[name] = cells[column]
    return ImportRow(row_number, email, phone, username, fields, extra, identities, hooked)


def row_reference(cells: dict, header: Header) -> str:
    """What a rejected row is about, for the error file: its email, else its phone."""
    for column, canonical in header.standard.items():
        if canonical == "email" and cells.get(column):
            return cells[column][:255]
    for column, canonical in header.standard.items():
        if canonical == "phone_number" and cells.get(column):
            return cells[column][:255]
    return ""
