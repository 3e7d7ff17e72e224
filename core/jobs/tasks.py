"""Queueing jobs: the Celery tasks of the runner (both safe to run twice), sending a job to them, and
sending again the jobs that nobody works on."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.jobs import runner
from core.jobs.models import Job

logger = logging.getLogger(__name__)


@shared_task(name="core.jobs.tasks.run_job")
def run_job(job_id: str) -> str | None:
    """Run (or continue) a pending job; its final status, or None if it was not ours to run."""
    return runner.run(job_id)


@shared_task(name="core.jobs.tasks.resume_stale_jobs")
def resume_stale_jobs_task() -> int:
    return len(resume_stale_jobs())


def enqueue_job(job_id: str) -> None:
    """Send ``run_job`` after commit. If the broker is down the job stays pending and
    resume_stale_jobs queues it later, so the caller's request still succeeds."""

    def send():
        run_job.delay(job_id)

    transaction.on_commit(send, robust=True)


def resume_stale_jobs(*, limit: int = 100) -> list[str]:
    """Queue again the jobs nobody works on: processing ones whose heartbeat is older than
    JOB_STALE_SECONDS (their worker died) and pending ones queued that long ago (lost message).

    A stale job goes back to pending with its lease cleared, so a runner that was only slow finds
    it lost the job at its next chunk and stops (docs/jobs.md, "Crash safety").
    """
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.JOB_STALE_SECONDS)
    with transaction.atomic():
        ids = list(Job.objects.select_for_update(skip_locked=True)
                   .filter(status__in=Job.ACTIVE, heartbeat_at__lt=stale_before)
                   .order_by("heartbeat_at").values_list("id", flat=True)[:limit])
        Job.objects.filter(id__in=ids).update(status=Job.PENDING, lease="", heartbeat_at=now, updated_at=now)
        for job_id in ids:
            enqueue_job(job_id)
    if ids:
        logger.warning("queued %d stale job(s) again: %s", len(ids), ", ".join(ids))
    return ids
