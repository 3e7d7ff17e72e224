"""Reads of jobs and their errors."""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from core.api.errors import NotFound
from core.api.fields import require_object_id
from core.jobs.models import Job, JobError


def get_job(application, job_id, *, kinds=None) -> Job:
    """A job of this application (of one of ``kinds`` if given); 404 otherwise, whoever owns it."""
    require_object_id(job_id, "job_id")
    queryset = Job.objects.filter(application=application, id=job_id)
    if kinds is not None:
        queryset = queryset.filter(kind__in=kinds)
    job = queryset.first()
    if job is None:
        raise NotFound(f"No job {job_id} in this application.", code="job_not_found")
    return job


def job_errors(job: Job):
    """The job's errors in row order (a queryset: slice it or iterate it with .iterator())."""
    return JobError.objects.filter(job=job).order_by("row_number", "id")


def running_and_recently_failed(application, *, days: int = 7, limit: int = 10) -> list[Job]:
    """The console overview's jobs: those pending or running, and those that failed in the last ``days``."""
    since = timezone.now() - timedelta(days=days)
    return list(Job.objects.filter(application=application)
                .filter(Q(status__in=Job.ACTIVE) | Q(status=Job.FAILED, finished_at__gte=since))
                .order_by("-created_at")[:limit])
