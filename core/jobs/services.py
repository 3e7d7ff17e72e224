"""Starting and stopping jobs, and storing their input files."""

from django.utils import timezone

from core import files
from core.actors import Actor
from core.files import downloads
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
    """Who started the job (``created_by``), as the actor its writes are recorded under, with the job as the
    request id (``job-<id>``) of everything it writes: the events of one job can be found together."""
    created_by = job.created_by or {}
    return Actor(created_by.get("type", "system"), created_by.get("id", ""), created_by.get("name", ""),
                 f"job-{job.pk}")


# ----------------------------------------------------------------------------- input files

INPUT_COPY = "input_copy"  # payload key of the stored copy of a job's ``*_file_url``


def _record(job: Job, key: str, value) -> None:
    job.payload = {**job.payload, key: value}
    Job.objects.filter(pk=job.pk).update(payload=job.payload)


def store_job_input(job: Job, content, name: str, *, key: str = "input_file") -> str:
    """Store a local file (an upload, a command's file; bytes or a binary file object) in the job's
    folder as ``name``, and record its stored name in ``payload[key]``; the stored name."""
    stored = files.save_file(files.job_file_name(job, name), content)
    _record(job, key, stored)
    return stored


def stored_input(job: Job, url: str, *, field: str, name: str, store=files.save_file, legacy_name: str = "") -> str:
    """The job's stored copy of the file at ``url``: fetched by the guarded downloader the first time and
    kept in the job's folder as ``name`` (``store(stored_name, file)`` writes it), so that every later run,
    a resumed one too, reads the very same bytes and never the live URL twice.

    The copy is recorded in ``payload["input_copy"]`` only once it is complete: a run killed while
    writing it fetches the file again rather than reading half of it. ``legacy_name``: where jobs
    created before that record was kept stored their copy."""
    recorded = job.payload.get(INPUT_COPY)
    if recorded and files.exists(recorded):
        return recorded
    if legacy_name and files.exists(files.job_file_name(job, legacy_name)):
        return files.job_file_name(job, legacy_name)
    stored = files.job_file_name(job, name)
    with downloads.download(url, field=field) as downloaded:
        store(stored, downloaded.file)
    _record(job, INPUT_COPY, stored)
    return stored
