"""Queueing jobs: the Celery tasks of the runner (both safe to run twice), sending a job to them, and
sending again the jobs that nobody works on.

For a pending job ``heartbeat_at`` is when its message was sent (or is due, for a delayed one), and NULL when
sending it failed (the broker was out of reach): resume_stale_jobs, which beat runs every
JOB_RESUME_INTERVAL_SECONDS, sends those at once and the others once JOB_STALE_SECONDS passed unclaimed."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.jobs import runner
from core.jobs.models import Job

logger = logging.getLogger(__name__)


@shared_task(name="core.jobs.tasks.run_job")
def run_job(job_id: str, waited: int = 0) -> str | None:
    """Run (or continue) a pending job; its final status, None if it was not ours to run, or ``pending`` when
    a connection failure put it back (sent again after a backoff). ``waited``: how many times PostgreSQL was
    out of reach before the job could even be claimed."""
    try:
        return runner.run(job_id, requeue=send_later)
    except Exception as exc:
        if not runner.is_connection_failure(exc):
            raise
        # out of reach before the job was ours (its claim): still pending; try again after a backoff
        runner.drop_connection()
        delay = runner.retry_delay(waited + 1)
        logger.warning("job %s: not started, the database or Redis is out of reach (%s); trying again in %g s",
                       job_id, type(exc).__name__, delay)
        send_later(job_id, delay, waited=waited + 1)
        return None


def send_later(job_id: str, delay: float, **kwargs) -> None:
    """Send ``run_job`` to run in ``delay`` seconds; if the broker is out of reach, mark the job unsent."""
    try:
        run_job.apply_async((job_id,), kwargs or None, countdown=delay)
    except Exception as exc:
        if not runner.is_connection_failure(exc):
            raise
        _not_sent(job_id, exc)


@shared_task(name="core.jobs.tasks.resume_stale_jobs")
def resume_stale_jobs_task() -> int:
    return len(resume_stale_jobs())


def enqueue_job(job_id: str) -> None:
    """Send ``run_job`` after commit. If the broker is down the job stays pending, marked unsent, and
    resume_stale_jobs sends it within JOB_RESUME_INTERVAL_SECONDS of the broker being back; the caller's
    request still succeeds."""

    def send():
        try:
            run_job.delay(job_id)
        except Exception as exc:
            if not runner.is_connection_failure(exc):
                raise
            _not_sent(job_id, exc)

    transaction.on_commit(send, robust=True)


def _not_sent(job_id: str, exc: BaseException) -> None:
    """The job's message could not be sent: heartbeat_at NULL tells resume_stale_jobs to send it at its next
    run. (If the database is out of reach too, the job keeps its heartbeat and is sent once that is stale.)"""
    logger.warning("job %s: not sent, the broker is out of reach (%s); resume_stale_jobs sends it once it is back",
                   job_id, type(exc).__name__)
    try:
        Job.objects.filter(pk=job_id, status=Job.PENDING).update(heartbeat_at=None)
    except Exception as error:
        if not runner.is_connection_failure(error):
            raise
        runner.drop_connection()


def resume_stale_jobs(*, limit: int = 100) -> list[str]:
    """Queue again the jobs nobody works on: pending ones whose message could not be sent (heartbeat_at
    NULL: the broker was out of reach), processing ones whose heartbeat is older than JOB_STALE_SECONDS
    (their worker died, or lost the database for that long) and pending ones sent that long ago (a lost
    message). One query on the partial index of active jobs: cheap enough for beat to run every few seconds.

    A stale job goes back to pending with its lease cleared, so a runner that was only slow finds
    it lost the job at its next chunk and stops (docs/jobs.md, "Crash safety").
    """
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.JOB_STALE_SECONDS)
    with transaction.atomic():
        ids = list(Job.objects.select_for_update(skip_locked=True)
                   .filter(status__in=Job.ACTIVE)
                   .filter(Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True, status=Job.PENDING))
                   .order_by(F("heartbeat_at").asc(nulls_first=True)).values_list("id", flat=True)[:limit])
        Job.objects.filter(id__in=ids).update(status=Job.PENDING, lease="", heartbeat_at=now, updated_at=now)
        for job_id in ids:
            enqueue_job(job_id)
    if ids:
        logger.warning("queued %d unsent or stale job(s) again: %s", len(ids), ", ".join(ids))
    return ids
