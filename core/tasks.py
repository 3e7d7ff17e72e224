"""Celery tasks of the job runner (core/jobs.py). Both are safe to run twice."""

from celery import shared_task

from core import jobs


@shared_task(name="core.tasks.run_job")
def run_job(job_id: str) -> str | None:
    return jobs.run_job(job_id)


@shared_task(name="core.tasks.resume_stale_jobs")
def resume_stale_jobs() -> int:
    return len(jobs.resume_stale_jobs())
