"""Subscriptions and deliveries as the API answers them (webhooks.schema)."""

from core.timefmt import iso
from webhooks import selectors
from webhooks.models import Delivery, Subscription


def subscription_dict(subscription: Subscription, *, secret: str | None = None) -> dict:
    shown = {
        "id": subscription.pk, "application_id": subscription.application_id, "url": subscription.url,
        "event_types": list(subscription.event_types), "description": subscription.description,
        "active": subscription.active, "failing_since": iso(subscription.failing_since),
        "disabled_at": iso(subscription.disabled_at), "disabled_reason": subscription.disabled_reason,
        "created_at": iso(subscription.created_at), "updated_at": iso(subscription.updated_at),
    }
    if secret is not None:
        shown["secret"] = secret
    return shown


def delivery_dict(delivery: Delivery, event_id: str) -> dict:
    return {
        "id": delivery.pk, "event_id": event_id, "status": delivery.status, "attempts": delivery.attempts,
        "next_attempt_at": iso(delivery.next_attempt_at) if delivery.status == Delivery.PENDING else "",
        "held": delivery.held,
        "last_status_code": delivery.last_status_code, "last_error": delivery.last_error,
        "created_at": iso(delivery.created_at), "finished_at": iso(delivery.finished_at),
        "attempt_log": [{"attempted_at": iso(a.attempted_at), "status_code": a.status_code, "latency_ms": a.latency_ms,
                         "error": a.error, "next_attempt_at": iso(a.next_attempt_at)}
                        for a in selectors.attempts_of(delivery)],
    }
