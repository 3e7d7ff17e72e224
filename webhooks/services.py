"""Every write of the webhooks app (docs/webhooks.md): subscriptions (created with a secret shown once,
changed, their secret rotated, deleted), the deliveries the event log's numbering queues, redeliveries,
and what a delivery attempt did to its delivery and subscription."""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.actors import Actor
from core.api.errors import NotFound, ValidationFailed
from core.files.downloads import DownloadError, vet_url
from users import events
from users.models import AuditEvent, event_row_of
from users.services import record_event
from webhooks import secrets
from webhooks.models import Attempt, Delivery, Subscription

FIELDS = ("url", "event_types", "description", "active")


@dataclass(frozen=True)
class WithSecret:
    """A subscription and its new signing secret: shown once, in the answer that created or rotated it."""

    subscription: Subscription
    secret: str


def _clean(data: dict, *, partial: bool) -> dict:
    """The fields of a subscription write, checked: the URL against the outbound guard (no private,
    loopback or link-local address unless WEBHOOK_ALLOWED_HOSTS names the host), known event types."""
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise ValidationFailed(f"{sorted(unknown)[0]} is not a field of a webhook subscription.")
    cleaned = dict(data)
    if "url" in data or not partial:
        url = data.get("url")
        try:
            vet_url(url, "url", allowed_hosts=settings.WEBHOOK_ALLOWED_HOSTS)
        except DownloadError as exc:  # the guard of file downloads, named for this field
            raise ValidationFailed(exc.message, code="url_invalid") from None
        cleaned["url"] = url.strip()
    types = data.get("event_types", [] if not partial else None)
    if types is not None:
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise ValidationFailed("event_types must be a list of event types (empty: all).")
        unknown_types = [t for t in types if t not in events.TYPES]
        if unknown_types:
            raise ValidationFailed(f"event_types: {unknown_types[0][:60]!r} is no event type (docs/events.md).",
                                   code="unknown_event_type")
        cleaned["event_types"] = sorted(set(types))
    return cleaned


def create_subscription(application, data: dict, actor: Actor) -> WithSecret:
    cleaned = _clean(data, partial=False)
    if Subscription.objects.filter(application=application).count() >= settings.WEBHOOK_MAX_SUBSCRIPTIONS:
        raise ValidationFailed(f"An application has at most {settings.WEBHOOK_MAX_SUBSCRIPTIONS} webhook "
                               "subscriptions.", code="too_many_subscriptions")
    secret = secrets.new_secret()
    subscription = Subscription.objects.create(application=application, secret_ciphertext=secrets.seal(secret),
                                               created_by=actor.name[:200], **cleaned)
    return WithSecret(subscription, secret)


def update_subscription(subscription: Subscription, data: dict, actor: Actor) -> Subscription:
    """Changes what is given. Turning a disabled subscription on again starts it afresh (its pending
    deliveries go out; the failure clock restarts)."""
    cleaned = _clean(data, partial=True)
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        for name, value in cleaned.items():
            setattr(subscription, name, value)
        if cleaned.get("active"):
            subscription.disabled_at, subscription.disabled_reason, subscription.failing_since = None, "", None
        subscription.save()
    return subscription


def rotate_secret(subscription: Subscription, actor: Actor) -> WithSecret:
    """A new secret (returned once, with the subscription as stored); the old one keeps signing beside it
    for WEBHOOK_SECRET_GRACE_SECONDS."""
    secret = secrets.new_secret()
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        subscription.previous_secret_ciphertext = subscription.secret_ciphertext
        subscription.previous_secret_until = timezone.now() + timedelta(seconds=settings.WEBHOOK_SECRET_GRACE_SECONDS)
        subscription.secret_ciphertext = secrets.seal(secret)
        subscription.save(update_fields=["previous_secret_ciphertext", "previous_secret_until", "secret_ciphertext",
                                         "updated_at"])
    return WithSecret(subscription, secret)


def delete_subscription(subscription: Subscription, actor: Actor) -> None:
    """The subscription with its deliveries and their attempts: in set-based statements (a busy
    subscription has millions, more than one statement's parameters could list)."""
    with transaction.atomic(), connection.cursor() as cursor:
        if Subscription.objects.select_for_update().filter(pk=subscription.pk).first() is None:
            return  # deleted already
        # the deliveries first: this waits for a worker recording an attempt on one of them; the attempts then,
        # in a statement of their own that sees what that worker committed
        cursor.execute(f"DELETE FROM {Delivery._meta.db_table} WHERE subscription_id = %s RETURNING id",
                       [subscription.pk])
        cursor.execute(f"DELETE FROM {Attempt._meta.db_table} WHERE delivery_id = ANY(%s)",
                       [[row[0] for row in cursor.fetchall()]])
        Subscription.objects.filter(pk=subscription.pk).delete()


# ----------------------------------------------------------------------------- deliveries

_QUEUE = (f"INSERT INTO {Delivery._meta.db_table} (subscription_id, event_id, status, attempts, next_attempt_at, "
          "last_error, created_at) "
          f"SELECT s.id, e.id, 'pending', 0, statement_timestamp(), '', statement_timestamp() FROM {AuditEvent._meta.db_table} e "
          f"JOIN {Subscription._meta.db_table} s ON s.application_id = e.application_id AND s.active "
          "AND (s.event_types = '[]'::jsonb OR s.event_types ? e.action) "
          "WHERE e.id = ANY(%s) RETURNING subscription_id")


def queue_deliveries(event_ids: list[int]) -> None:
    """The event log's hook (users.eventlog.on_sequenced, in the numbering's transaction): one pending
    delivery per numbered event and active subscription that wants it; the workers are told on commit."""
    with connection.cursor() as cursor:
        cursor.execute(_QUEUE, [event_ids])
        subscription_ids = sorted({row[0] for row in cursor.fetchall()})
    if subscription_ids:
        transaction.on_commit(lambda: _deliver_soon(subscription_ids))


def redeliver(subscription: Subscription, *, event_id: str | None = None, failed_since: datetime | None = None,
              actor: Actor) -> int:
    """Queues again one event (its 24-hex id) or every event whose delivery failed since a time; how many."""
    if (event_id is None) == (failed_since is None):
        raise ValidationFailed("Give event_id or failed_since.")
    if event_id is not None:
        row_id = event_row_of(event_id)
        if row_id is None or not AuditEvent.objects.filter(id=row_id, application_id=subscription.application_id,
                                                            sequence__isnull=False).exists():
            raise NotFound(f"No event {event_id} in this application.", code="event_not_found")
        row_ids = [row_id]
    else:
        row_ids = list(subscription.deliveries.filter(status=Delivery.FAILED, created_at__gte=failed_since)
                       .values_list("event_id", flat=True).distinct())
    now = timezone.now()
    with transaction.atomic():
        Delivery.objects.bulk_create([Delivery(subscription=subscription, event_id=row_id, next_attempt_at=now)
                                      for row_id in row_ids])
        if row_ids:
            transaction.on_commit(lambda: _deliver_soon([subscription.pk]))
    return len(row_ids)


def redeliver_deliveries(deliveries, actor: Actor) -> int:
    """Queues again the event of each given delivery, to that delivery's subscription (the admin's "Redeliver
    selected deliveries"): a new pending delivery per (subscription, event), sent with the event's id as its
    ``webhook-id`` like every redelivery. Events no longer in the log (trimmed) are left out, as ``redeliver``
    refuses them; how many were queued."""
    pairs = {(d.subscription_id, d.event_id) for d in deliveries}
    if not pairs:
        return 0
    application_of = dict(Subscription.objects.filter(pk__in={s for s, _ in pairs}).values_list("id", "application_id"))
    logged = dict(AuditEvent.objects.filter(id__in={e for _, e in pairs}, sequence__isnull=False)
                  .values_list("id", "application_id"))
    queued = sorted((s, e) for s, e in pairs if s in application_of and logged.get(e) == application_of[s])
    now = timezone.now()
    with transaction.atomic():
        Delivery.objects.bulk_create([Delivery(subscription_id=s, event_id=e, next_attempt_at=now) for s, e in queued])
        subscription_ids = sorted({s for s, _ in queued})
        if subscription_ids:
            transaction.on_commit(lambda: _deliver_soon(subscription_ids))
    return len(queued)


def _deliver_soon(subscription_ids: list[str]) -> None:
    from webhooks.tasks import deliver_soon  # the tasks use the services: imported when first needed

    deliver_soon(subscription_ids)


@dataclass(frozen=True)
class Outcome:
    """What one attempt gave: ``status_code`` (None: no answer), ``error``, and when to try again
    (None: never: succeeded, or given up)."""

    delivery_id: int
    attempted_at: datetime
    latency_ms: int
    status_code: int | None
    error: str
    next_attempt_at: datetime | None
    succeeded: bool
    receiver_down: bool = False  # no answer, or a 429: the rest of the batch is held (not sent)


# A batch's outcomes go to PostgreSQL as one JSON parameter (one C call to encode, where arrays of datetimes
# cost psycopg a Python loop per element).
_OUTCOMES = ("jsonb_to_recordset(%s::jsonb) AS o(id bigint, status_code int, latency_ms int, error text, "
             "at timestamptz, next_at timestamptz, succeeded boolean)")
_ATTEMPTS = (f"INSERT INTO {Attempt._meta.db_table} (delivery_id, attempted_at, status_code, latency_ms, error, "
             f"next_attempt_at) SELECT o.id, o.at, o.status_code, o.latency_ms, o.error, o.next_at FROM {_OUTCOMES} "
             "WHERE o.id = ANY(%s)")
_MOVE_ON = (f"UPDATE {Delivery._meta.db_table} d SET attempts = d.attempts + 1, last_status_code = o.status_code, "
            "last_error = o.error, last_latency_ms = o.latency_ms, lease_until = NULL, held = false, "
            f"status = CASE WHEN o.succeeded THEN '{Delivery.SUCCEEDED}' WHEN o.next_at IS NULL THEN '{Delivery.FAILED}' "
            "ELSE d.status END, "
            "finished_at = CASE WHEN o.succeeded OR o.next_at IS NULL THEN o.at ELSE d.finished_at END, "
            "next_attempt_at = COALESCE(o.next_at, d.next_attempt_at) "
            f"FROM {_OUTCOMES} WHERE d.id = o.id "
            "RETURNING d.id, o.succeeded AND d.attempts = 1")  # the second: a first try that succeeded
_LOCK = f"SELECT failing_since FROM {Subscription._meta.db_table} WHERE id = %s FOR UPDATE"
_HOLD = (f"UPDATE {Delivery._meta.db_table} SET held = true, lease_until = NULL, next_attempt_at = %s "
         "WHERE id = ANY(%s)")
_RELEASE = (f"UPDATE {Delivery._meta.db_table} SET held = false, next_attempt_at = statement_timestamp() "
            f"WHERE subscription_id = %s AND status = '{Delivery.PENDING}' AND held")


def record_outcomes(subscription_id: str, outcomes: list[Outcome], *, held: list[int] = (),
                    held_until: datetime | None = None) -> None:
    """Writes the attempts, moves their deliveries on, and keeps the subscription's failure clock: the first
    failure starts it, a success stops it, and failing longer than WEBHOOK_DISABLE_AFTER_SECONDS turns the
    subscription off (an event: webhook.subscription_disabled).

    ``held``: deliveries of the batch that were not sent because the receiver did not answer (or asked to
    wait, 429) just before: they wait, untried, until ``held_until`` (the failed one's next try), and a
    success releases every held delivery of the subscription at once: a receiver back after an outage gets
    its backlog at full speed instead of on each delivery's own retry schedule."""
    if not outcomes:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        # the subscription's row first, as delete_subscription does: one writer of its deliveries' outcomes at a
        # time (a release and another worker's hold would otherwise wait on each other's rows)
        cursor.execute(_LOCK, [subscription_id])
        locked = cursor.fetchone()
        if locked is None:  # deleted meanwhile, its deliveries with it
            return
        failing_since = locked[0]
        table = json.dumps([{"id": o.delivery_id, "status_code": o.status_code, "latency_ms": o.latency_ms,
                             "error": o.error[:300], "at": o.attempted_at.isoformat(),
                             "next_at": o.next_attempt_at.isoformat() if o.next_attempt_at else None,
                             "succeeded": o.succeeded} for o in outcomes])
        # the deliveries first (their rows locked), then the attempts of those still there (a subscription
        # deleted meanwhile took its deliveries with it), except first tries that succeeded: the delivery row
        # is their record (models.Attempt)
        cursor.execute(_MOVE_ON, [table])
        logged = [delivery_id for delivery_id, first_success in cursor.fetchall() if not first_success]
        if logged:
            cursor.execute(_ATTEMPTS, [table, logged])
        if held:
            cursor.execute(_HOLD, [held_until, list(held)])
        last = max(outcomes, key=lambda o: o.attempted_at)
        if last.succeeded and failing_since is None:
            return  # nearly every batch: the subscription's row stays as it is
        subscription = Subscription.objects.get(pk=subscription_id)  # locked above
        if last.succeeded:  # it was failing: what it held goes out now
            subscription.failing_since = None
            subscription.save(update_fields=["failing_since", "updated_at"])
            cursor.execute(_RELEASE, [subscription_id])
            if cursor.rowcount:
                transaction.on_commit(lambda: _deliver_soon([subscription_id]))
            return
        if subscription.failing_since is None:
            subscription.failing_since = min(o.attempted_at for o in outcomes if not o.succeeded)
        elif subscription.active and \
                last.attempted_at - subscription.failing_since > timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER_SECONDS):
            _disable(subscription, last)
        subscription.save(update_fields=["failing_since", "active", "disabled_at", "disabled_reason", "updated_at"])


def _disable(subscription: Subscription, last: Outcome) -> None:
    hours = settings.WEBHOOK_DISABLE_AFTER_SECONDS / 3600
    subscription.active, subscription.disabled_at = False, last.attempted_at
    subscription.disabled_reason = f"every delivery failed for {hours:g} hours (last: {last.error or last.status_code})"[:200]
    record_event("", subscription.application_id, events.WEBHOOK_DISABLED, Actor.system("webhooks"),
                 data={"subscription_id": subscription.pk, "url": subscription.url,
                       "failing_since": subscription.failing_since.isoformat(), "reason": subscription.disabled_reason})
