"""Starting and stopping jobs."""

from django.utils import timezone

from core.actors import Actor
from core.jobs.handlers import handler_for
from core.jobs.models import Job
from core.jobs.tasks import enqueue_job


def create_job(application, kind: str, actor: Actor, *, payload: dict | None = None, file_name: str = "",
               file_format: str = "", total: int = 0, enqueue: bool = True) -> Job:
    """A pending job, queued for a worker once the current transaction commits."""
    handler_for(kind)  # a typo in a kind is a bug: fail now, not in the worker
    job = Job.objects.create(
        company_id=application.company_id, application=application, kind=kind, payload=payload or {},
        file_name=file_name, file_format=file_format, total=total, heartbeat_at=timezone.now(),
        created_by={"type": actor.type, "id": actor.id, "name": actor.name},
    )
    if enqueue:
        enqueue_job(job.id)
    return job


def cancel_job(job: Job) -> bool:
    """Stop a pending or running job: the runner stops before its next chunk. False if already finished."""
    now = timezone.now()
    cancelled = Job.objects.filter(pk=job.pk, status__in=Job.ACTIVE).update(
        status=Job.CANCELLED, lease="", finished_at=now, updated_at=now)
    if cancelled:
        job.refresh_from_db()
    return bool(cancelled)


def actor_of(job: Job) -> Actor:
    """Who started the job (``created_by``), as the actor its writes are recorded under."""
    created_by = job.created_by or {}
    return Actor(created_by.get("type", "system"), created_by.get("id", ""), created_by.get("name", ""))
