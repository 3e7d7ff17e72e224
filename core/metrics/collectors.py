"""Figures read at scrape time, the same from every machine (the deployment's database and broker): jobs per kind
and status from the job table, the Celery queue's depth, whether PostgreSQL and Redis answer; then the
collectors other apps registered (core.metrics.register_collector). A part that fails is left out of the page
(and logged); the health gauges say why.

prometheus-client is imported inside the functions: a process imports this module (through the URLconf, e.g.
Celery's start-up checks) before it may have chosen the multiprocess mode (core.metrics.multiprocess)."""

import logging
import time
from datetime import timedelta

import redis
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, Sum
from django.utils import timezone
from core.jobs.models import Job
from core.metrics.instruments import PREFIX, registered_collectors

logger = logging.getLogger(__name__)

JOB_BUCKETS = (1.0, 5.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 10800.0)
STATEMENT_TIMEOUT_MS = 5000
# kombu's Redis transport keeps a queue's messages of priority 0 under its name and the others under
# name + "\x06\x16" + the priority step (3, 6, 9)
PRIORITY_SEPARATOR = "\x06\x16"
PRIORITY_STEPS = (3, 6, 9)

_redis = None


def redis_client():
    global _redis
    if _redis is None:
        _redis = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    return _redis


def health():
    """database_up / redis_up (1 or 0) and how long each check took: SELECT 1 and PING."""
    from prometheus_client.core import GaugeMetricFamily

    up = GaugeMetricFamily(PREFIX + "up", "1 when the service reaches this dependency (SELECT 1, PING), else 0.",
                           labels=["dependency"])
    seconds = GaugeMetricFamily(PREFIX + "dependency_check_seconds", "How long the scrape's check took.",
                                labels=["dependency"])
    for name, check in (("postgresql", _select_one), ("redis", lambda: redis_client().ping())):
        started = time.perf_counter()
        try:
            check()
            ok = 1
        except Exception as exc:
            logger.warning("metrics: %s does not answer (%s)", name, type(exc).__name__)
            ok = 0
        up.add_metric([name], ok)
        seconds.add_metric([name], time.perf_counter() - started)
    return [up, seconds]


def _select_one():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        connection.close()  # a broken connection is not kept for the next request
        raise


def queue_depth():
    from prometheus_client.core import GaugeMetricFamily

    depth = GaugeMetricFamily(PREFIX + "queue_depth", "Messages waiting in the Celery queue (Redis LLEN).",
                              labels=["queue"])
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    pipe = redis_client().pipeline(transaction=False)
    for key in (queue, *(f"{queue}{PRIORITY_SEPARATOR}{step}" for step in PRIORITY_STEPS)):
        pipe.llen(key)
    depth.add_metric([queue], sum(pipe.execute()))
    return [depth]


def jobs():
    """Every job of the table by kind and status; the run time of finished ones; runs started; the oldest
    pending job's age. One aggregate over the job table (a few rows per import, export or bulk update)."""
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

    duration = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    timed = Q(finished_at__isnull=False, started_at__isnull=False)
    buckets = {f"le{i}": Count("id", filter=timed & Q(duration__lte=timedelta(seconds=bound)))
               for i, bound in enumerate(JOB_BUCKETS)}
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
        rows = list(Job.objects.annotate(duration=duration).values("kind", "status").order_by()
                    .annotate(jobs=Count("id"), attempts=Sum("attempts"), timed=Count("id", filter=timed),
                              seconds=Sum("duration", filter=timed), **buckets))
        pending = list(Job.objects.filter(status=Job.PENDING).values("kind").order_by()
                       .annotate(oldest=Min("created_at")))
    count = GaugeMetricFamily(PREFIX + "jobs", "Jobs in the job table by kind and status (failed: failures).",
                              labels=["kind", "status"])
    runs = CounterMetricFamily(PREFIX + "job_runs", "Runs of jobs started (a job resumed after a crash or an "
                               "outage runs again), by kind.", labels=["kind"])
    times = HistogramMetricFamily(PREFIX + "job_duration_seconds", "Finished jobs' time from their first start "
                                  "to their end, by kind and status.", labels=["kind", "status"])
    run_totals: dict[str, int] = {}
    for row in rows:
        count.add_metric([row["kind"], row["status"]], row["jobs"])
        run_totals[row["kind"]] = run_totals.get(row["kind"], 0) + (row["attempts"] or 0)
        if row["timed"]:
            cumulative = [(str(bound), row[f"le{i}"]) for i, bound in enumerate(JOB_BUCKETS)]
            times.add_metric([row["kind"], row["status"]], cumulative + [("+Inf", row["timed"])],
                             sum_value=row["seconds"].total_seconds())
    for kind, total in sorted(run_totals.items()):
        runs.add_metric([kind], total)
    oldest = GaugeMetricFamily(PREFIX + "job_oldest_pending_seconds", "Age of the oldest job waiting for a worker, "
                               "by kind (none waiting: absent).", labels=["kind"])
    now = timezone.now()
    for row in pending:
        oldest.add_metric([row["kind"]], (now - row["oldest"]).total_seconds())
    return [count, runs, times, oldest]


class ScrapeCollector:
    """Everything read at scrape time, in one prometheus-client collector (no ``describe``: registering it
    queries nothing)."""

    def collect(self):
        for part in (health, queue_depth, jobs, *registered_collectors()):
            try:
                yield from part()
            except Exception as exc:
                logger.warning("metrics: %s left out (%s: %s)", getattr(part, "__qualname__", part),
                               type(exc).__name__, exc)
