"""Webhook subscriptions of an application, and the deliveries of its events to them (docs/webhooks.md)."""

from django.db import models
from django.db.models import Q

from core.ids import new_object_id
from core.tenancy.models import Application


class Subscription(models.Model):
    """Where an application's events go: a URL, the event types it wants (none: all), and the signing
    secret (encrypted; the previous one keeps signing too until ``previous_secret_until``)."""

    id = models.CharField(primary_key=True, max_length=24, default=new_object_id, editable=False)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="webhook_subscriptions")
    url = models.URLField(max_length=2000)
    event_types = models.JSONField(default=list, blank=True)
    description = models.CharField(max_length=500, blank=True, default="")
    active = models.BooleanField(default=True)
    secret_ciphertext = models.TextField()
    previous_secret_ciphertext = models.TextField(blank=True, default="")
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    # Failing deliveries since this time (None: the last one went through); past the disable window the
    # subscription is turned off (disabled_reason says why) and that is an event itself.
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True, default="")
    created_by = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.url

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class Delivery(models.Model):
    """One event for one subscription: pending until a 2xx (succeeded) or until the retry window is over
    (failed). Claimed by a worker for ``lease_until``; a worker that dies leaves it to be claimed again."""

    PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"
    STATUSES = [(PENDING, "pending"), (SUCCEEDED, "succeeded"), (FAILED, "failed")]

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.BigIntegerField()  # users.AuditEvent's row (not a foreign key: the log is trimmed)
    status = models.CharField(max_length=10, choices=STATUSES, default=PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, default="")
    last_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    # Not sent because the receiver had just failed to answer: waits untried for the next probe, and goes
    # out as soon as any delivery of the subscription succeeds (services.record_outcomes).
    held = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["subscription", "-id"], name="delivery_subscription_idx"),
            models.Index(fields=["finished_at"], name="delivery_finished_idx", condition=Q(finished_at__isnull=False)),
            models.Index(fields=["subscription"], name="delivery_held_idx", condition=Q(held=True)),
            # the claim (a subscription's pending deliveries oldest first, not past its delivered ones) and beat's
            # sweep for due ones (few are pending: one index fewer to write per delivery)
            models.Index(fields=["subscription", "id"], name="delivery_pending_idx", condition=Q(status="pending")),
        ]

    def __str__(self):
        return f"event {self.event_id} → {self.subscription_id}: {self.status}"


class Attempt(models.Model):
    """One try of a delivery: what the receiver answered (or why there was no answer) and how long it took.

    A first try that succeeds (nearly every delivery) writes no row: the delivery's own ``finished_at``,
    ``last_status_code`` and ``last_latency_ms`` are that try (``selectors.attempts_of`` shows it as one),
    one write fewer per event. Any other try, failed or after a failure, has its row."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField()
    error = models.CharField(max_length=300, blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-attempted_at", "-id"]
        indexes = [models.Index(fields=["delivery", "-attempted_at"], name="attempt_delivery_idx")]
