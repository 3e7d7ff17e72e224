"""Sending: a worker claims a subscription's due deliveries, POSTs each event (signed the Standard Webhooks
way) through the guarded outbound client, and records what happened (services.record_outcomes).

At least once: a delivery is claimed for WEBHOOK_LEASE_SECONDS; a worker killed while sending leaves it
pending, and once the lease is over it is claimed again (beat's dispatch_due) and sent with the same
``webhook-id``. Retries: on no answer (timeout, refused connection, TLS), a 5xx or a 429, after an
exponential delay with jitter (a ``Retry-After`` of the receiver's is honoured), until the retry window
(WEBHOOK_RETRY_WINDOW_SECONDS after the delivery was queued) is over. Any other answer (a 3xx, a 4xx)
fails the delivery at once: the receiver refused this event and will not change its mind; it can be
redelivered by hand. No answer (or a 429) also holds the rest of the batch untried: they wait for the
failed delivery's next try, and the first success releases them all (services.record_outcomes).
"""

import random
import time
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.http import parse_http_date_safe

from core import outbound
from core.files.downloads import DownloadError
from core.tenancy.models import Application
from users import eventlog
from users.models import AuditEvent
from webhooks import metrics as webhook_metrics
from webhooks import secrets, services
from webhooks.models import Delivery, Subscription

# Claims due deliveries (a lease) and reads their events, as the bodies to send, in the same statement: one round
# trip per batch. Parameters: the lease's seconds, the subscription, the batch size, the company id.
_CLAIM = (f"WITH claimed AS (UPDATE {Delivery._meta.db_table} SET lease_until = statement_timestamp() + "
          f"make_interval(secs => %s) WHERE id IN (SELECT id FROM {Delivery._meta.db_table} WHERE subscription_id = %s "
          "AND status = 'pending' AND next_attempt_at <= statement_timestamp() AND (lease_until IS NULL OR "
          "lease_until < statement_timestamp()) ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED) "
          "RETURNING id, event_id, created_at, attempts) "
          f"SELECT c.id, c.created_at, c.attempts, e.id IS NOT NULL, {eventlog.event_id_sql('e')}, "
          f"{eventlog.event_json_sql('e')} "
          f"FROM claimed c LEFT JOIN {AuditEvent._meta.db_table} e ON e.id = c.event_id ORDER BY c.id")


_SUBSCRIPTION = (f"SELECT s.active, s.url, a.company_id, s.secret_ciphertext, s.previous_secret_ciphertext, "
                 f"s.previous_secret_until FROM {Subscription._meta.db_table} s JOIN {Application._meta.db_table} a "
                 "ON a.id = s.application_id WHERE s.id = %s")


class _Target(NamedTuple):
    """What a batch needs of its subscription (secrets.Signer reads the secrets)."""

    url: str
    company_id: int
    secret_ciphertext: str
    previous_secret_ciphertext: str
    previous_secret_until: datetime | None


BATCH = 100  # deliveries claimed and sent at a time, over one connection


def deliver_due(subscription_id: str, *, limit: int = BATCH) -> int:
    """Sends at most ``limit`` of the subscription's due deliveries; how many were tried."""
    with connection.cursor() as cursor:
        cursor.execute(_SUBSCRIPTION, [subscription_id])
        row = cursor.fetchone()
        if row is None or not row[0]:
            return 0  # a paused subscription's deliveries wait for it to be turned on again
        subscription = _Target(*row[1:])
        cursor.execute(_CLAIM, [settings.WEBHOOK_LEASE_SECONDS, subscription_id, limit, str(subscription.company_id)])
        claimed = cursor.fetchall()
    if not claimed:
        return 0
    signer = secrets.Signer(subscription, timezone.now())
    outcomes, held, held_until = [], [], None
    with outbound.Session() as session:  # one kept-alive connection for the batch
        for delivery_id, queued_at, attempts, found, message_id, body in claimed:
            if held_until is not None:  # the receiver just failed to answer: the rest wait for it
                held.append(delivery_id)
                continue
            if not found:  # the event was trimmed from the log meanwhile
                outcomes.append(_outcome(delivery_id, timezone.now(), 0, None, "the event is no longer in the log",
                                         None))
                continue
            outcome = _send(subscription, delivery_id, message_id, body, queued_at, attempts, session, signer)
            outcomes.append(outcome)
            if outcome.receiver_down:
                held_until = outcome.next_attempt_at or outcome.attempted_at + timedelta(seconds=retry_delay(1))
    services.record_outcomes(subscription_id, outcomes, held=held, held_until=held_until)
    webhook_metrics.count(outcomes, held)
    return len(claimed)


def _send(subscription: _Target, delivery_id: int, message_id: str, body: str, queued_at: datetime,
          attempts: int, session: outbound.Session, signer: "secrets.Signer") -> services.Outcome:
    now = timezone.now()
    headers = {
        "Content-Type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signer.signature(message_id, now, body),
    }
    started = time.monotonic()
    try:
        answer = outbound.request(
            "POST", subscription.url, headers=headers, body=body.encode(), setting="url",
            allowed_hosts=settings.WEBHOOK_ALLOWED_HOSTS, connect_timeout=settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS,
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS, max_bytes=settings.WEBHOOK_MAX_RESPONSE_BYTES, session=session)
    except DownloadError as exc:  # the URL now resolves to a refused address: not worth retrying
        return _outcome(delivery_id, now, _ms(started), None, str(exc), None)
    except outbound.Unreachable as exc:
        return _outcome(delivery_id, now, _ms(started), None, str(exc), _retry_at(now, queued_at, attempts),
                        receiver_down=True)
    latency = _ms(started)
    if 200 <= answer.status < 300:
        return _outcome(delivery_id, now, latency, answer.status, "", None, succeeded=True)
    if answer.status == 429 or answer.status >= 500:
        retry_after = _retry_after(answer.headers.get("retry-after"), now)
        return _outcome(delivery_id, now, latency, answer.status, f"HTTP {answer.status}",
                        _retry_at(now, queued_at, attempts, retry_after), receiver_down=answer.status == 429)
    return _outcome(delivery_id, now, latency, answer.status, f"HTTP {answer.status}: not retried", None)


def _outcome(delivery_id, at, latency, status, error, next_at, *, succeeded=False,
             receiver_down=False) -> services.Outcome:
    return services.Outcome(delivery_id=delivery_id, attempted_at=at, latency_ms=latency, status_code=status,
                            error=error, next_attempt_at=next_at, succeeded=succeeded, receiver_down=receiver_down)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def retry_delay(attempt: int) -> float:
    """Seconds before try ``attempt + 1``: WEBHOOK_RETRY_BASE_SECONDS doubling per attempt, at most
    WEBHOOK_RETRY_MAX_DELAY_SECONDS, with ±25 % jitter (receivers coming back are not hit all at once)."""
    delay = min(settings.WEBHOOK_RETRY_MAX_DELAY_SECONDS, settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempt - 1))
    return delay * random.uniform(0.75, 1.25)


def _retry_at(now: datetime, queued_at: datetime, attempts: int, retry_after: float | None = None) -> datetime | None:
    """When to try again after try ``attempts + 1`` failed; None once that is past the retry window."""
    delay = retry_delay(attempts + 1)
    if retry_after is not None:
        delay = max(delay, retry_after)
    at = now + timedelta(seconds=delay)
    return at if at <= queued_at + timedelta(seconds=settings.WEBHOOK_RETRY_WINDOW_SECONDS) else None


def _retry_after(value: str | None, now: datetime) -> float | None:
    """A Retry-After in seconds or as an HTTP date, bounded by WEBHOOK_RETRY_MAX_DELAY_SECONDS."""
    if not value:
        return None
    value = value.strip()
    seconds = float(value) if value.isdigit() else None
    if seconds is None:
        when = parse_http_date_safe(value)
        seconds = when - now.timestamp() if when is not None else None
    if seconds is None or seconds < 0:
        return None
    return min(seconds, settings.WEBHOOK_RETRY_MAX_DELAY_SECONDS)


def trim(batch: int = 10_000) -> int:
    """Deletes finished deliveries older than EVENT_RETENTION_DAYS, with their attempts; how many."""
    cutoff = timezone.now() - timedelta(days=settings.EVENT_RETENTION_DAYS)
    total = 0
    while True:
        ids = list(Delivery.objects.filter(finished_at__lt=cutoff).values_list("id", flat=True)[:batch])
        if not ids:
            return total
        Delivery.objects.filter(id__in=ids).delete()
        total += len(ids)
