"""Webhook figures at /metrics (docs/metrics.md): each delivery attempt's outcome, counted by the Celery worker
that made it; the deliveries waiting and the subscriptions failing, read at scrape time (the pending
deliveries' partial index, the subscriptions table)."""

from collections import Counter

from core import metrics
from webhooks.models import Delivery, Subscription

ATTEMPTS = metrics.Counter(
    "webhook_delivery_attempts", "Delivery attempts by result: succeeded (2xx), retrying (no answer, 429 or 5xx: "
    "tried again later), failed (given up: another 4xx, the retry window over, the event gone), held (not sent: "
    "the receiver had just failed to answer).", ("result",))
LATENCY = metrics.Histogram(
    "webhook_delivery_seconds", "Time of an attempt that got an answer from the receiver.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))


def count(outcomes, held) -> None:
    """One batch of deliver_due, once its outcomes are recorded (each counter moved once per batch)."""
    results = Counter("succeeded" if o.succeeded else "retrying" if o.next_attempt_at else "failed" for o in outcomes)
    if held:
        results["held"] = len(held)
    for result, n in results.items():
        ATTEMPTS.labels(result).inc(n)
    latency = LATENCY.labels()
    for outcome in outcomes:
        if outcome.status_code is not None:
            latency.observe(outcome.latency_ms / 1000)


def collect():
    from prometheus_client.core import GaugeMetricFamily  # at scrape time: after the process chose its mode

    pending = GaugeMetricFamily(metrics.PREFIX + "webhook_deliveries_pending",
                                "Deliveries not yet succeeded nor given up (the backlog).")
    pending.add_metric([], Delivery.objects.filter(status=Delivery.PENDING).count())
    failing = GaugeMetricFamily(metrics.PREFIX + "webhook_subscriptions_failing",
                                "Active subscriptions whose last delivery failed.")
    failing.add_metric([], Subscription.objects.filter(active=True, failing_since__isnull=False).count())
    return [pending, failing]
