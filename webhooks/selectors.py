"""Reads of the webhooks app."""

from django.db.models import Prefetch, Q

from core.api.errors import NotFound, ValidationFailed
from core.api.fields import require_object_id
from users.models import AuditEvent, event_id_of
from webhooks.models import Attempt, Delivery, Subscription


def subscriptions_of(application):
    return Subscription.objects.filter(application=application).order_by("-created_at", "-id")


def get_subscription(application, subscription_id: str) -> Subscription:
    require_object_id(subscription_id, "subscription_id")
    subscription = Subscription.objects.filter(application=application, pk=subscription_id).first()
    if subscription is None:
        raise NotFound(f"No webhook subscription {subscription_id} in this application.",
                       code="subscription_not_found")
    return subscription


def deliveries_of(subscription: Subscription, status: str | None):
    """The subscription's deliveries, newest first, with their attempts (newest first)."""
    if status not in (None, "", Delivery.PENDING, Delivery.SUCCEEDED, Delivery.FAILED):
        raise ValidationFailed("status must be one of pending, succeeded, failed.")
    deliveries = subscription.deliveries.prefetch_related(
        Prefetch("attempt_log", queryset=Attempt.objects.order_by("-attempted_at", "-id"))).order_by("-id")
    return deliveries.filter(status=status) if status else deliveries


def attempts_of(delivery: Delivery, limit: int | None = None) -> list[Attempt]:
    """The delivery's tries, newest first: its attempt rows (prefetched by deliveries_of), or, for a first
    try that succeeded (no row written, see Attempt), that try as the delivery recorded it."""
    rows = list(delivery.attempt_log.all()) if limit is None else \
        list(delivery.attempt_log.order_by("-attempted_at", "-id")[:limit])
    if not rows and delivery.status == Delivery.SUCCEEDED and delivery.attempts == 1:
        rows = [Attempt(delivery=delivery, attempted_at=delivery.finished_at, status_code=delivery.last_status_code,
                        latency_ms=delivery.last_latency_ms or 0, error="", next_attempt_at=None)]
    return rows


def event_ids_of(deliveries) -> dict[int, str]:
    """Each delivery's event row → the event's 24-hex id."""
    rows = AuditEvent.objects.filter(id__in={d.event_id for d in deliveries}).only("id", "created_at")
    found = {event.id: event.event_id for event in rows}
    # an event trimmed from the log meanwhile: its row part, the time part unknown (zeros)
    return {d.event_id: found.get(d.event_id) or event_id_of(d.event_id) for d in deliveries}


def failing_subscriptions(application) -> list[Subscription]:
    """Subscriptions whose deliveries are failing or that were disabled for it (the console's overview)."""
    return list(subscriptions_of(application).filter(Q(failing_since__isnull=False) | Q(disabled_at__isnull=False)))
