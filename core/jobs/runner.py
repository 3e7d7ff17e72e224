"""The job runner: claim a pending job, apply its chunks one transaction each, finish or fail it.

Why a killed worker cannot double-apply or lose a row (docs/jobs.md, "Crash safety"):

- claiming sets ``status=processing`` and a fresh ``lease`` under a row lock (SKIP LOCKED), from
  ``pending`` only: two workers given the same job id never both get it;
- every chunk transaction first locks the job row and checks the lease is still ours, then applies
  the chunk, stores its errors and moves counters and checkpoint forward, and commits all of it at
  once; a run that lost its lease (resume_stale_jobs gave the job to another worker) stops there;
- a heartbeat thread keeps ``heartbeat_at`` fresh during long chunks and downloads, so only dead
  workers' jobs look stale.
"""

import logging
import threading
import uuid

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core import files
from core.api.errors import ServiceError
from core.jobs.handlers import ChunkResult, RowError, handler_for, job_ended
from core.jobs.selectors import job_errors
from core.jobs.models import Job, JobError

logger = logging.getLogger(__name__)


class LeaseLost(Exception):
    """The job is no longer ours: cancelled, or handed to another worker after a stale heartbeat."""


def run(job_id: str) -> str | None:
    lease = uuid.uuid4().hex
    job = _claim(job_id, lease)
    if job is None:
        return None
    try:
        handler = handler_for(job.kind)
    except LookupError as exc:  # this worker lacks the module that registers the kind
        _fail(job, lease, str(exc))
        return job.status
    try:
        with _Heartbeat(job.pk, lease):
            _apply_chunks(job, lease, handler)
            _complete(job, lease, handler)
    except LeaseLost:
        logger.warning("job %s: stopped, it is no longer ours (cancelled or taken over)", job.pk)
        return None
    except ServiceError as exc:
        _fail(job, lease, exc.message)
    except Exception as exc:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        _fail(job, lease, f"internal error ({type(exc).__name__}); the worker log has the details")
    return job.status


def _claim(job_id: str, lease: str) -> Job | None:
    now = timezone.now()
    with transaction.atomic():
        job = Job.objects.select_for_update(skip_locked=True).filter(pk=job_id, status=Job.PENDING).first()
        if job is None:
            return None  # finished, cancelled, running elsewhere, or unknown
        if job.attempts >= settings.JOB_MAX_ATTEMPTS:
            job.error = f"gave up after {job.attempts} attempts: the worker stopped every time"
            _end(job, Job.FAILED)
            return None
        job.status, job.lease, job.heartbeat_at = Job.PROCESSING, lease, now
        job.attempts += 1
        job.started_at = job.started_at or now
        job.save(update_fields=["status", "lease", "heartbeat_at", "attempts", "started_at", "updated_at"])
    return job


def _hold(job: Job, lease: str) -> None:
    """Lock the job row for the current transaction; LeaseLost unless we still run it."""
    if not Job.objects.select_for_update().filter(pk=job.pk, lease=lease, status=Job.PROCESSING).exists():
        raise LeaseLost(job.pk)


def _apply_chunks(job: Job, lease: str, handler) -> None:
    chunks = handler.chunks(job, job.checkpoint)
    try:
        for rows, next_checkpoint in chunks:
            with transaction.atomic():
                _hold(job, lease)
                # A chunk's data and its checkpoint commit together, so a commit the server loses in a
                # crash loses both and the job redoes that chunk: no need to wait for the WAL flush.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit = off")
                success, errors = ChunkResult(*handler.apply(job, rows))
                errors = [RowError(*error) for error in errors]
                JobError.objects.bulk_create(
                    JobError(job_id=job.pk, row_number=e.row_number, reference=str(e.reference or "")[:255],
                             message=str(e.message)) for e in errors)
                failed = len({e.row_number for e in errors if e.row_number is not None}) + sum(
                    1 for e in errors if e.row_number is None)
                job.processed += success + failed
                job.success_count += success
                job.error_count += failed
                job.checkpoint = next_checkpoint
                job.heartbeat_at = timezone.now()
                job.save(update_fields=["total", "processed", "success_count", "error_count", "checkpoint",
                                        "heartbeat_at", "result_file", "updated_at"])
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()  # a generator's finally blocks (temporary files) run now, not at garbage collection


def _complete(job: Job, lease: str, handler) -> None:
    with transaction.atomic():
        _hold(job, lease)
        finish = getattr(handler, "finish", None)
        if finish is not None:
            finish(job)
        _write_error_file(job)
        _end(job, Job.COMPLETED_WITH_ERRORS if job.error_count else Job.COMPLETED)


def _fail(job: Job, lease: str, reason: str) -> None:
    job.refresh_from_db()  # drop what the failed chunk changed in memory
    with transaction.atomic():
        try:
            _hold(job, lease)
        except LeaseLost:
            return
        job.error = reason[:2000]
        _write_error_file(job)  # the rows that failed before the job did
        _end(job, Job.FAILED)


def _write_error_file(job: Job) -> None:
    if job.error_count:
        rows = ((e.row_number or "", e.reference, e.message) for e in job_errors(job).iterator())
        job.error_file = files.write_csv(files.job_file_name(job, "errors.csv"), ["row", "reference", "error"], rows)


def _end(job: Job, status: str) -> None:
    """Always inside the transaction that holds the job: the ended hooks' writes commit with it."""
    now = timezone.now()
    job.status, job.lease, job.finished_at, job.heartbeat_at = status, "", now, now
    job.save(update_fields=["status", "lease", "finished_at", "heartbeat_at", "error", "error_file", "result_file",
                            "updated_at"])
    job_ended(job)


class _Heartbeat:
    """Touches ``heartbeat_at`` every JOB_STALE_SECONDS / 4 from a thread (and its own connection)."""

    def __init__(self, job_id: str, lease: str):
        self.job_id, self.lease = job_id, lease
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"job-heartbeat-{job_id}", daemon=True)

    def __enter__(self):
        # Inside an outer transaction (tests, eager calls) nobody else sees the job: nothing to keep alive,
        # and the thread could wait forever on the row lock that transaction holds.
        if not connection.in_atomic_block:
            self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join()

    def _beat(self):
        interval = max(settings.JOB_STALE_SECONDS / 4, 0.2)
        try:
            while not self.stopped.wait(interval):
                Job.objects.filter(pk=self.job_id, lease=self.lease, status=Job.PROCESSING).update(
                    heartbeat_at=timezone.now())
        except Exception:  # a missed beat only risks a needless takeover, which the lease makes safe
            logger.exception("job %s: heartbeat failed", self.job_id)
        finally:
            connection.close()
