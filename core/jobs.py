"""Background jobs: one record (``core.models.Job``), one runner, one handler per kind.

A feature registers a handler for its kind (in its ``AppConfig.ready``, so that web processes and
workers both know it) and creates jobs; the runner (``core/job_runner.py``) does the rest::

    from core import jobs

    @jobs.register("customer_import")
    class CustomerImport:
        action_type = "import"            # optional: BulkActionModel.action_type (default: the kind)

        def chunks(self, job, checkpoint):
            # yield (rows, next_checkpoint) from `checkpoint` (None: the start) to the end
            ...

        def apply(self, job, rows):
            # the work of one chunk, in the database only
            return jobs.ChunkResult(success=2, errors=[(3, "asha@example.com", "email is not valid")])

        def finish(self, job):            # optional: once, after the last chunk
            ...

    job = jobs.create_job(application, "customer_import", Actor.from_request(request), payload={...})

The contract (docs/jobs.md tells the why):

- ``chunks(job, checkpoint)`` is deterministic: from the same checkpoint it yields the same rows
  (read a stored copy of the input, or database rows in key order; never a live URL twice). It may
  set ``job.total`` (and ``job.result_file``); the runner saves them with the next chunk.
- ``apply(job, rows)`` returns ``ChunkResult(success, errors)`` (a plain ``(success, errors)`` tuple
  will do), errors being ``(row_number, reference, message)`` tuples. The runner runs it, stores the
  errors and advances the counters and the checkpoint in ONE transaction: a worker killed at any
  moment leaves the whole chunk or none of it. So apply writes to the database only (no files, no
  messages to the outside). ``processed`` grows by ``success`` plus the number of rows with errors.
- ``finish(job)`` runs in the transaction that completes the job; a killed worker may run it again,
  so it must be idempotent (write files under a fixed name, e.g. ``core.files.job_file_name``).
- Raising ``core.errors.ServiceError`` (``core.downloads.DownloadError`` is one) fails the job with
  that message; any other exception fails it with "internal error" and is logged with its traceback.
- A set-based handler (a COPY into a staging table, one big UPDATE) yields a single chunk.
"""

import logging
from datetime import timedelta
from importlib import import_module
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.actors import Actor
from core.errors import NotFound, ValidationFailed
from core.ids import is_object_id
from core.models import Job, JobError

logger = logging.getLogger(__name__)


class RowError(NamedTuple):
    row_number: int | None  # None: a problem of the whole chunk, not of one row
    reference: str  # what the row is about, e.g. its user id or email
    message: str


class ChunkResult(NamedTuple):
    success: int
    errors: list  # of RowError or (row_number, reference, message)


# ----------------------------------------------------------------------------- handlers

_handlers: dict[str, object] = {}


def register(kind: str):
    """Class or instance decorator: ``@register("customer_export")`` makes it the handler of that kind."""

    def decorator(handler):
        _handlers[kind] = handler() if isinstance(handler, type) else handler
        return handler

    return decorator


def handler_for(kind: str):
    try:
        return _handlers[kind]
    except KeyError:
        raise LookupError(f"no job handler is registered for kind {kind!r}") from None


def load_handler_modules() -> None:
    """Import the JOB_HANDLER_MODULES (extra handlers, e.g. the tests' in a real worker)."""
    for module in settings.JOB_HANDLER_MODULES:
        import_module(module)


# ----------------------------------------------------------------------------- services

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


def enqueue_job(job_id: str) -> None:
    """Send ``core.tasks.run_job`` after commit. If the broker is down the job stays pending and
    resume_stale_jobs queues it later, so the caller's request still succeeds."""

    def send():
        from core.tasks import run_job

        run_job.delay(job_id)

    transaction.on_commit(send, robust=True)


def run_job(job_id: str) -> str | None:
    """Run (or continue) a pending job in this process; its final status, or None if not ours to run."""
    from core.job_runner import run

    return run(job_id)


def cancel_job(job: Job) -> bool:
    """Stop a pending or running job: the runner stops before its next chunk. False if already finished."""
    now = timezone.now()
    cancelled = Job.objects.filter(pk=job.pk, status__in=Job.ACTIVE).update(
        status=Job.CANCELLED, lease="", finished_at=now, updated_at=now)
    if cancelled:
        job.refresh_from_db()
    return bool(cancelled)


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


def actor_of(job: Job) -> Actor:
    """Who started the job (``created_by``), as the actor its writes are recorded under."""
    created_by = job.created_by or {}
    return Actor(created_by.get("type", "system"), created_by.get("id", ""), created_by.get("name", ""))


# ----------------------------------------------------------------------------- selectors

def get_job(application, job_id, *, kinds=None) -> Job:
    """A job of this application (of one of ``kinds`` if given); 404 otherwise, whoever owns it."""
    if not is_object_id(job_id):
        raise ValidationFailed(f"job_id must be 24 lowercase hexadecimal characters, got {str(job_id)[:40]!r}.")
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
