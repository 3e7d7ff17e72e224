"""Webhook subscriptions and deliveries on the wire, declared once (webhooks.presenters builds them)."""

from typing import Annotated, Literal, NotRequired, TypedDict

from core.api.schema import Instant, InstantOrEmpty, ObjectId, Page, Schema

WebhookSubscription = TypedDict("WebhookSubscription", {
    "id": ObjectId,
    "application_id": ObjectId,
    "url": str,
    "event_types": Annotated[list[str], Schema(description="Empty: every event type.")],
    "description": str,
    "active": bool,
    "failing_since": InstantOrEmpty,
    "disabled_at": InstantOrEmpty,
    "disabled_reason": str,
    "created_at": Instant,
    "updated_at": Instant,
    "secret": NotRequired[Annotated[str, Schema(description="The signing secret (whsec_…): only in the answer "
                                                            "that created or rotated it, never again.")]],
})
WebhookSubscriptionList = TypedDict("WebhookSubscriptionList", {"items": list[WebhookSubscription], "page": Page})
WebhookAttempt = TypedDict("WebhookAttempt", {
    "attempted_at": Instant,
    "status_code": int | None,
    "latency_ms": Annotated[int, Schema(minimum=0)],
    "error": str,
    "next_attempt_at": InstantOrEmpty,
})
WebhookDelivery = TypedDict("WebhookDelivery", {
    "id": Annotated[int, Schema(minimum=1)],
    "event_id": Annotated[str, Schema(pattern=r"^[0-9a-f]{24}$")],
    "status": Literal["pending", "succeeded", "failed"],
    "attempts": Annotated[int, Schema(minimum=0)],
    "next_attempt_at": InstantOrEmpty,
    "held": bool,
    "last_status_code": int | None,
    "last_error": str,
    "created_at": Instant,
    "finished_at": InstantOrEmpty,
    "attempt_log": list[WebhookAttempt],
})
WebhookDeliveryList = TypedDict("WebhookDeliveryList", {"items": list[WebhookDelivery], "page": Page})
Redelivered = TypedDict("Redelivered", {"queued": Annotated[int, Schema(minimum=0)]})
