"""Set-based writes of a bulk attribute update: one chunk of customers in a handful of statements.

A chunk is one transaction (the job runner's, with its checkpoint; or the request's for the sync path).
In it:

1. Python checks each row: a malformed user id is an error row at once; each (slug, value) pair is
   checked against the locked definitions (unknown slug, invalid value: the row's error, none of its
   values written). Every distinct (definition, value) becomes a *key*: its JSON, its typed index rows
   (types.index_rows) and its two audit payloads (services._audit_data, created or not). Encrypted
   values get their ciphertext per row (attributes.crypto), as store_value does.
2. COPY stages the rows: ``bulk_items`` (row, customer), ``bulk_keys`` and ``bulk_index`` (per key) and,
   unless every row gets the same values unencrypted, ``bulk_values`` (row, key, ciphertext).
3. ``DELETE … RETURNING`` drops the rows whose customer is not a live customer of the application
   (unknown or archived: the error users.selectors.get_customer gives).
4. ``bulk_writes``: per (definition, customer) the value of the last row naming it (DISTINCT ON), in
   index order. The same values for everyone: the customers cross-joined with the keys.
5. One ``INSERT … ON CONFLICT (definition_id, customer_id) DO UPDATE`` upserts the values (version + 1,
   updated_by / updated_at; created_by on insert; customer_overridden kept), its RETURNING (with
   ``xmax = 0``: inserted) kept in ``bulk_done``.
6. The replaced values' index rows go (one DELETE) and the new ones come from the keys' templates (one
   INSERT … SELECT); one INSERT … SELECT writes an events.ATTRIBUTE_UPDATED per value written, the same
   event store_value records, its fixed columns from users.customer_rows.AUDIT_EVENTS.

A customer named twice in a chunk counts as processed twice but is written once, with the last row's
values (one version step, one audit event). Nothing loops over rows in the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone

from attributes import services, types
from attributes.models import UserAttribute, UserAttributeValue
from core.api.errors import ValidationFailed
from core.ids import is_object_id, new_object_id
from core.jobs import RowError
from users import events
from users.customer_rows import AUDIT_EVENTS, audit_values, json_text
from users.models import Customer

_VALUES = UserAttribute._meta.db_table
_INDEX = UserAttributeValue._meta.db_table
_CUSTOMERS = Customer._meta.db_table
INDEX_COLUMNS = services.INDEX_COLUMNS[3:]  # position and the typed columns; the ids come from the write

# A new value's id: an ObjectId as core.ids makes them (creation second, 5 random bytes, a counter),
# the first 18 hex digits from core.ids once per chunk and the counter the row's place in the chunk:
# rows of a cross join do not exist in Python, and ascending ids append to the primary key's index.
# (A chunk writes far fewer than the counter's 16,777,215 values.)
NEW_OBJECT_ID = "%(id_prefix)s || lpad(to_hex(w.n), 6, '0')"

STAGING = (
    "CREATE TEMP TABLE bulk_items (row_number integer NOT NULL, customer_id varchar(24) NOT NULL) ON COMMIT DROP",
    "CREATE TEMP TABLE bulk_keys (key integer NOT NULL, definition_id varchar(24) NOT NULL, value jsonb, "
    "created_data jsonb NOT NULL, updated_data jsonb NOT NULL) ON COMMIT DROP",
    "CREATE TEMP TABLE bulk_index (key integer NOT NULL, position integer NOT NULL, text_value text, "
    "text_lower text, number_value double precision, bool_value boolean, time_value timestamptz, "
    "digest varchar(64)) ON COMMIT DROP",
    "CREATE TEMP TABLE bulk_values (seq integer NOT NULL, row_number integer NOT NULL, key integer NOT NULL, "
    "ciphertext text NOT NULL) ON COMMIT DROP",
    "CREATE TEMP TABLE bulk_done (id varchar(24) NOT NULL, definition_id varchar(24) NOT NULL, "
    "customer_id varchar(24) NOT NULL, key integer NOT NULL, created boolean NOT NULL) ON COMMIT DROP",
)
DROP_STAGING = "DROP TABLE IF EXISTS pg_temp.bulk_items, pg_temp.bulk_keys, pg_temp.bulk_index, " \
               "pg_temp.bulk_values, pg_temp.bulk_done, pg_temp.bulk_writes"

UNKNOWN_CUSTOMERS = (
    "DELETE FROM bulk_items i WHERE NOT EXISTS (SELECT FROM {customers} c WHERE c.id = i.customer_id "
    "AND c.application_id = %s AND NOT c.archived) RETURNING i.row_number, i.customer_id")

# Per (definition, customer) the last row's value; ordered like the unique index (fewer page visits,
# and concurrent jobs lock shared rows in the same order).
WRITES_OF_TEMPLATE = (
    "CREATE TEMP TABLE bulk_writes ON COMMIT DROP AS SELECT DISTINCT ON (k.definition_id, i.customer_id) "
    "k.definition_id, i.customer_id, k.key, k.value, ''::text AS ciphertext "
    "FROM bulk_items i CROSS JOIN bulk_keys k ORDER BY k.definition_id, i.customer_id, i.row_number DESC")
WRITES_PER_ROW = (
    "CREATE TEMP TABLE bulk_writes ON COMMIT DROP AS SELECT DISTINCT ON (k.definition_id, i.customer_id) "
    "k.definition_id, i.customer_id, k.key, k.value, v.ciphertext "
    "FROM bulk_items i JOIN bulk_values v ON v.row_number = i.row_number JOIN bulk_keys k ON k.key = v.key "
    "ORDER BY k.definition_id, i.customer_id, v.seq DESC")

UPSERT = (
    "WITH written AS (INSERT INTO {values} AS a (id, application_id, definition_id, customer_id, value, "
    "ciphertext, customer_overridden, created_by, updated_by, created_at, updated_at, version) "
    "SELECT {new_id}, %(app)s, w.definition_id, w.customer_id, w.value, w.ciphertext, false, %(label)s, "
    "%(label)s, %(now)s, %(now)s, 0 FROM (SELECT *, row_number() OVER () AS n FROM bulk_writes) w "
    "ON CONFLICT (definition_id, customer_id) DO UPDATE SET value = excluded.value, "
    "ciphertext = excluded.ciphertext, version = a.version + 1, updated_by = excluded.updated_by, "
    "updated_at = excluded.updated_at "
    "RETURNING a.id, a.definition_id, a.customer_id, a.xmax = 0 AS created) "
    "INSERT INTO bulk_done SELECT d.id, d.definition_id, d.customer_id, w.key, d.created "
    "FROM written d JOIN bulk_writes w USING (definition_id, customer_id)")

DELETE_OLD_INDEX_ROWS = (
    "DELETE FROM {index} v USING bulk_done d WHERE v.attribute_id = d.id AND NOT d.created")

INSERT_INDEX_ROWS = (
    "INSERT INTO {index} (attribute_id, definition_id, customer_id, {columns}) "
    "SELECT d.id, d.definition_id, d.customer_id, {template_columns} FROM bulk_done d JOIN bulk_index t ON t.key = d.key")

INSERT_AUDIT_EVENTS = "INSERT INTO {table} ({columns}) SELECT {select} FROM bulk_done d JOIN bulk_keys k ON k.key = d.key"


@dataclass(slots=True)
class Item:
    """One customer's update: row number (1-based position, or the CSV row), user id, (slug, raw) pairs."""

    row_number: int
    user_id: str
    attributes: list = field(default_factory=list)


@dataclass
class _Keys:
    """The distinct (definition, value) pairs of a chunk, numbered: their staging rows."""

    keys: list = field(default_factory=list)  # (key, definition_id, value JSON, created_data, updated_data)
    index: list = field(default_factory=list)  # (key, position, text_value, …)
    numbers: dict = field(default_factory=dict)  # (definition_id, canonical JSON) -> key

    def key_of(self, definition, spec: types.Spec, value) -> int:
        canonical = types.canonical_json(value)
        number = self.numbers.get((definition.id, canonical))
        if number is None:
            number = self.numbers[(definition.id, canonical)] = len(self.numbers) + 1
            self.keys.append((number, definition.id, None if spec.encrypted else canonical,
                              json_text(services.audit_data(definition, spec, value, created=True)),
                              json_text(services.audit_data(definition, spec, value, created=False))))
            for row in types.index_rows(spec, value):
                self.index.append((number, *[row.get(column) for column in INDEX_COLUMNS]))
        return number


class _Checked:
    """Each (slug, raw) pair checked once per chunk: (definition, spec, value) or the error message."""

    def __init__(self, definitions: dict):
        self.definitions = definitions
        self.specs = {slug: types.Spec.of(d) for slug, d in definitions.items()}

    def pair(self, key: str, raw):
        definition = self.definitions.get(key.lower())
        if definition is None:
            raise ValidationFailed(f"no attribute definition with slug {key!r} in this application.")
        spec = self.specs[key.lower()]
        return definition, spec, services.validate_value(definition, raw, spec)


def write_items(application, items: list[Item], definitions: dict, actor, *, same: bool) -> tuple[int, list]:
    """(rows applied, [RowError]) for a chunk, inside the caller's transaction. ``definitions``: by
    lower-cased slug, locked FOR KEY SHARE; ``same``: every item carries the same pairs."""
    checked, keys = _Checked(definitions), _Keys()
    errors: dict[int, RowError] = {}
    refused: dict[int, RowError] = {}  # well-formed rows whose pairs are wrong (unless their customer is)
    staged_items, per_row = [], []
    shared = _shared_keys(items, checked, keys) if same else None
    template = shared is not None and not isinstance(shared, str) and not any(s.encrypted for _, s, _ in shared)
    for item in items:
        if not is_object_id(item.user_id):
            errors[item.row_number] = RowError(item.row_number, item.user_id, f"{item.user_id[:40]!r} is not a user id.")
            continue
        staged_items.append((item.row_number, item.user_id))
        if template:
            continue
        try:
            pairs = shared if same else [checked.pair(key, raw) for key, raw in item.attributes]
            if isinstance(pairs, str):
                raise ValidationFailed(pairs)
        except ValidationFailed as exc:
            refused[item.row_number] = RowError(item.row_number, item.user_id, exc.message)
            continue
        for definition, spec, value in pairs:
            ciphertext = services.stored_forms(spec, value)[1]
            per_row.append((len(per_row), item.row_number, keys.key_of(definition, spec, value), ciphertext))
    if staged_items:
        for row_number, user_id in _write(application, staged_items, keys, per_row, actor, template=template):
            errors[row_number] = RowError(row_number, user_id, f"No customer {user_id} in this application.")
    for row_number, error in refused.items():
        errors.setdefault(row_number, error)  # an unknown customer is the row's first problem
    return len(items) - len(errors), [errors[n] for n in sorted(errors)]


def _shared_keys(items: list[Item], checked: _Checked, keys: _Keys):
    """The checked pairs every item of a ``same`` chunk carries (their keys made), or the error message."""
    if not items:
        return []
    try:
        pairs = [checked.pair(key, raw) for key, raw in items[0].attributes]
    except ValidationFailed as exc:
        return exc.message
    for definition, spec, value in pairs:
        if not spec.encrypted:
            keys.key_of(definition, spec, value)
    return pairs


def _write(application, staged_items: list, keys: _Keys, per_row: list, actor, *, template: bool) -> list:
    """Steps 2–6 of the module docstring; returns the (row_number, user_id) of unknown customers."""
    now, label = timezone.now(), services.actor_label(actor)
    with connection.cursor() as cursor:
        cursor.execute(DROP_STAGING)
        for statement in STAGING:
            cursor.execute(statement)
        _copy(cursor, "bulk_items (row_number, customer_id)", staged_items)
        _copy(cursor, "bulk_keys (key, definition_id, value, created_data, updated_data)", keys.keys)
        _copy(cursor, f"bulk_index (key, {', '.join(INDEX_COLUMNS)})", keys.index)
        _copy(cursor, "bulk_values (seq, row_number, key, ciphertext)", per_row)
        cursor.execute(UNKNOWN_CUSTOMERS.format(customers=_CUSTOMERS), [application.id])
        unknown = cursor.fetchall()
        if keys.keys:
            cursor.execute(WRITES_OF_TEMPLATE if template else WRITES_PER_ROW)
            cursor.execute(UPSERT.format(values=_VALUES, new_id=NEW_OBJECT_ID),
                           {"app": application.id, "label": label, "now": now, "id_prefix": new_object_id()[:18]})
            cursor.execute("SELECT count(*) FILTER (WHERE NOT created) FROM bulk_done")
            if cursor.fetchone()[0]:
                cursor.execute(DELETE_OLD_INDEX_ROWS.format(index=_INDEX))
            cursor.execute(INSERT_INDEX_ROWS.format(index=_INDEX, columns=", ".join(INDEX_COLUMNS),
                                                    template_columns=", ".join(f"t.{c}" for c in INDEX_COLUMNS)))
            _insert_audit_events(cursor, application.id, actor, now)
        cursor.execute(DROP_STAGING)
    return unknown


def _copy(cursor, target: str, rows: list) -> None:
    if rows:
        with cursor.cursor.copy(f"COPY {target} FROM STDIN") as copy:
            write = copy.write_row
            for row in rows:
                write(row)


def _insert_audit_events(cursor, application_id: str, actor, now) -> None:
    """One events.ATTRIBUTE_UPDATED per value written: the columns every event shares as parameters
    (users.customer_rows, as the import writes them), the customer and the key's payload per row."""
    shared = dict(zip(AUDIT_EVENTS.columns, AUDIT_EVENTS.row(
        audit_values(application_id, "", events.ATTRIBUTE_UPDATED, actor, created_at=now, published=False))))
    select, params = [], []
    for column in AUDIT_EVENTS.columns:
        if column == "customer_id":
            select.append("d.customer_id")
        elif column == "data":
            select.append("CASE WHEN d.created THEN k.created_data ELSE k.updated_data END")
        else:
            select.append("%s")
            params.append(shared[column])
    cursor.execute(INSERT_AUDIT_EVENTS.format(table=AUDIT_EVENTS.table, columns=", ".join(AUDIT_EVENTS.columns),
                                              select=", ".join(select)), params)
