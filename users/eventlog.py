"""The event log (docs/events.md): the published audit events, numbered in the order they become visible,
read in that order by the pull API (``GET …/events``) and handed to whoever delivers them (webhooks).

An event is written in the transaction of its change (``users.services.record_event``), without a
number: numbers taken at insert time would become visible out of order (a transaction that took 41
can commit after one that took 42, and a reader at 42 would never see 41). ``assign_sequences`` numbers
the events committed so far, one batch at a time under a database lock, so every number it hands out
is higher than every number anyone has seen: reading ``sequence > last`` never skips an event. Beat
runs it every ``EVENT_SEQUENCE_INTERVAL_SECONDS`` (users.tasks.sequence_events). The hooks registered
with ``on_sequenced`` get each batch inside the numbering's transaction (what they write commits with
the numbers, or neither does: the webhooks app's deliveries).
"""

import base64
import binascii
from collections.abc import Callable
from datetime import timedelta
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.api.errors import ValidationFailed
from core.timefmt import iso
from users.filters import filter_events
from users.models import AuditEvent

SEQUENCE = "users_event_sequence"  # a PostgreSQL sequence (migration 0007)
_LOCK_KEY = 0x65766C6F67  # "evlog": the numbering's advisory lock, one holder at a time
_TABLE = AuditEvent._meta.db_table
_NUMBER = (f"UPDATE {_TABLE} e SET sequence = n.sequence FROM "
           f"(SELECT id, nextval('{SEQUENCE}') AS sequence FROM "
           f"(SELECT id FROM {_TABLE} WHERE sequence IS NULL AND published ORDER BY id LIMIT %s) waiting) n "
           "WHERE e.id = n.id RETURNING e.id")

SequencedHook = Callable[[list[int]], None]
_hooks: list[SequencedHook] = []


def on_sequenced(hook: SequencedHook) -> None:
    """``hook(event_ids)`` runs for each batch of numbered events, in the transaction that numbers them
    (work after the commit: ``transaction.on_commit`` inside the hook)."""
    if hook not in _hooks:
        _hooks.append(hook)


def assign_sequences(batch: int = 1000) -> list[int] | None:
    """Numbers at most ``batch`` committed, published events (oldest first) in one transaction; their ids,
    or None when another process is numbering (it holds the lock and will see them)."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_LOCK_KEY])
            if not cursor.fetchone()[0]:
                return None
            cursor.execute(_NUMBER, [batch])
            ids = sorted(row[0] for row in cursor.fetchall())
            if ids:
                for hook in _hooks:
                    hook(ids)
    return ids


def sequence_all(batch: int = 1000, rounds: int = 100) -> int:
    """assign_sequences until a batch is not full (at most ``rounds`` batches); how many were numbered.
    Events committed while a short batch was being numbered wait for the next tick: numbering them at
    once would hand the webhooks a second, tiny batch (a task and a delivery round of their own) per tick."""
    total = 0
    for _ in range(rounds):
        ids = assign_sequences(batch) or []
        total += len(ids)
        if len(ids) < batch:
            break
    return total


# ----------------------------------------------------------------------------- reading

def encode_cursor(sequence: int) -> str:
    return base64.urlsafe_b64encode(f"s{sequence}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The sequence a cursor stands for (0 for none); 400 for anything this service did not hand out."""
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith("s") or not text[1:].isdigit():
            raise ValueError
        return int(text[1:])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValidationFailed("after must be a cursor from an earlier page (page.next_id).", code="invalid_cursor")


def retention_cutoff():
    """Events older than this are no longer served (EVENT_RETENTION_DAYS)."""
    return timezone.now() - timedelta(days=settings.EVENT_RETENTION_DAYS)


def trim(batch: int = 10_000) -> int:
    """Beat's retention: deletes the events past EVENT_RETENTION_DAYS that are about no customer (the
    application's: config, groups, jobs, webhooks). A customer's events stay: they are their timeline and
    audit trail, and go when the customer is purged. At most ``batch`` rows per call; how many."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_TABLE} WHERE id IN (SELECT id FROM {_TABLE} WHERE customer_id = '' "
                       "AND created_at < %s LIMIT %s)", [retention_cutoff(), batch])
        return cursor.rowcount


def events_after(application, after: int, *, size: int, params=None) -> tuple[list[AuditEvent], bool]:
    """The application's numbered events after sequence ``after`` and within the retention period, in
    sequence order (at most ``size``), narrowed by the query parameters ``params`` (users.filters), and
    whether more follow."""
    events = AuditEvent.objects.filter(application_id=application.id, sequence__gt=after,
                                       created_at__gte=retention_cutoff())
    if params:
        events = filter_events(events, params)
    page = list(events.order_by("sequence")[:size + 1])
    return page[:size], len(page) > size


def event_id_sql(alias: str) -> str:
    """SQL for the wire id of the event row ``alias`` (users.models.event_id_of; 8 hex digits of seconds until 2106)."""
    return (f"lpad(to_hex(floor(extract(epoch FROM {alias}.created_at))::bigint), 8, '0') || "
            f"lpad(to_hex({alias}.id), 16, '0')")


def event_json_sql(alias: str) -> str:
    """SQL for the event row ``alias`` as the JSON text of ``event_dict`` (the same fields and values, PostgreSQL's
    spacing), with one parameter: the company id. A webhook batch has PostgreSQL build its bodies with the claim
    that takes it: no Python objects, JSON parsing or date formatting per delivery in the worker
    (tests/users/test_event_json.py holds the two to each other)."""
    data = f"COALESCE({alias}.data, '{{}}'::jsonb)"
    return (
        f"json_build_object('id', {event_id_sql(alias)}, 'type', {alias}.action, 'version', {alias}.version, "
        f"'sequence', {alias}.sequence, "
        f"""'occurred_at', to_char({alias}.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), """
        f"'application_id', {alias}.application_id, 'company_id', %s::text, "
        f"'customer_id', NULLIF({alias}.customer_id, ''), "
        f"'actor', json_build_object('type', {alias}.actor_type, 'id', {alias}.actor_id, 'name', {alias}.actor_name), "
        f"'request_id', {alias}.request_id, "
        f"'data', CASE WHEN {alias}.reason <> '' AND NOT {data} ? 'reason' "
        f"THEN {data} || jsonb_build_object('reason', {alias}.reason) ELSE {data} END)::text")


def event_dict(event: AuditEvent, company_id: int) -> dict:
    """An event as integrations receive it (the pull API's items; a webhook's body is event_json_sql's)."""
    data = dict(event.data or {})
    if event.reason:
        data.setdefault("reason", event.reason)
    return {
        "id": event.event_id,
        "type": event.action,
        "version": event.version,
        "sequence": event.sequence,
        "occurred_at": iso(event.created_at),
        "application_id": event.application_id,
        "company_id": str(company_id),
        "customer_id": event.customer_id or None,
        "actor": {"type": event.actor_type, "id": event.actor_id, "name": event.actor_name},
        "request_id": event.request_id,
        "data": data,
    }
