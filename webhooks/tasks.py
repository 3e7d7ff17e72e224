"""Celery tasks of the webhooks: deliver a subscription's due deliveries; beat's sweep for retries that
came due and deliveries whose worker died (their lease ran out)."""

import time

from celery import shared_task
from django.db import connection

from webhooks import delivery
from webhooks.models import Delivery

DELIVER_SECONDS = 20  # one task delivers for at most this long, then leaves the rest to the next


@shared_task(name="webhooks.tasks.deliver", acks_late=True, ignore_result=True)
def deliver(subscription_id: str) -> int:
    """Sends the subscription's due deliveries, batch after batch, until a batch is not full (or time is up)."""
    sent, started = 0, time.monotonic()
    while time.monotonic() - started < DELIVER_SECONDS:
        tried = delivery.deliver_due(subscription_id)
        sent += tried
        if tried < delivery.BATCH:  # all that was due; what comes due later comes with its own task
            break
    return sent


def deliver_soon(subscription_ids) -> None:
    for subscription_id in subscription_ids:
        deliver.delay(subscription_id)


# A delivery that just came due normally has a deliver task on its way (the numbering's, a redelivery's, a
# release's): beat's sweep takes only those left waiting for DISPATCH_AFTER_SECONDS, or whose lease ran out,
# instead of sending a second task for each fresh batch it happens to see.
DISPATCH_AFTER_SECONDS = 2
_DUE = (f"SELECT DISTINCT subscription_id FROM {Delivery._meta.db_table} WHERE status = 'pending' "
        "AND next_attempt_at <= statement_timestamp() AND (lease_until < statement_timestamp() OR "
        f"(lease_until IS NULL AND next_attempt_at <= statement_timestamp() - interval '{DISPATCH_AFTER_SECONDS} seconds'))")


@shared_task(name="webhooks.tasks.dispatch_due", expires=30, ignore_result=True)
def dispatch_due() -> int:
    """Beat's tick: a deliver task for each subscription with a delivery left due (a retry whose time came,
    one a dead worker had claimed, one whose task was lost with Redis)."""
    with connection.cursor() as cursor:
        cursor.execute(_DUE)
        subscription_ids = [row[0] for row in cursor.fetchall()]
    deliver_soon(subscription_ids)
    return len(subscription_ids)


@shared_task(name="webhooks.tasks.trim_deliveries", ignore_result=True)
def trim_deliveries() -> int:
    """The delivery log's retention: finished deliveries (and their attempts) older than EVENT_RETENTION_DAYS."""
    return delivery.trim()
