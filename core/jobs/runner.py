"""The job runner: claim a pending job, apply its chunks one transaction each, finish or fail it.

Why a killed worker cannot double-apply or lose a row (docs/jobs.md, "Crash safety"):

- claiming sets ``status=processing`` and a fresh ``lease`` under a row lock (SKIP LOCKED), from
  ``pending`` only: two workers given the same job id never both get it;
- every chunk transaction first locks the job row and checks the lease is still ours, then applies
  the chunk, stores its errors and moves counters and checkpoint forward, and commits all of it at
  once; a run that lost its lease (resume_stale_jobs gave the job to another worker) stops there;
- a heartbeat thread keeps ``heartbeat_at`` fresh during long chunks and downloads, so only dead
  workers' jobs look stale.

Infrastructure blips (docs/jobs.md, "Database and Redis blips"): a connection-level failure inside a running job
(PostgreSQL or Redis lost, a COPY broken under it) is not the job's fault. The runner drops the broken
connection, puts the job back to pending (the attempt stays counted) and has it run again from its last
checkpoint after a backoff; after JOB_MAX_ATTEMPTS attempts it fails with a clear error. Only a failure of
the job's own input (a ServiceError) or logic (any other exception) fails it at once.
"""

import logging
import threading
import time
import uuid
from datetime import timedelta

import botocore.exceptions
import kombu.exceptions
import redis
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from core import files
from core.api.errors import ServiceError
from core.jobs.handlers import ChunkResult, RowError, handler_for, job_ended
from core.jobs.selectors import job_errors
from core.jobs.models import Job, JobError

logger = logging.getLogger(__name__)


class LeaseLost(Exception):
    """The job is no longer ours: cancelled, or handed to another worker after a stale heartbeat."""


# ----------------------------------------------------------------------------- connection failures

_REDIS_ERRORS = (redis.ConnectionError, redis.TimeoutError, kombu.exceptions.OperationalError)
# the S3-compatible store out of reach after botocore's own retries (core/files/s3.py): refused, timed out, cut off
_STORE_ERRORS = (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError)


def is_connection_failure(exc: BaseException) -> bool:
    """A lost or refused PostgreSQL, Redis or file store connection, whatever shape it took on the way up:
    Django's or psycopg's OperationalError / InterfaceError (psycopg's own when a handler wrote through the raw
    cursor, e.g. COPY), a Redis or broker connection error or timeout, the S3-compatible store refusing,
    timing out or cutting a request off (after botocore's retries), or any database error after which this
    thread's connection is unusable (a COPY interrupted by a restart surfaces as psycopg's ProgrammingError
    "COPY cannot be mixed with other operations"). Not a failure of the job's input or logic."""
    driver = connection.Database  # psycopg
    database_error = False
    seen = set()
    error = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, (OperationalError, InterfaceError, driver.OperationalError, driver.InterfaceError)
                      + _REDIS_ERRORS + _STORE_ERRORS):
            return True
        database_error = database_error or isinstance(error, (DatabaseError, driver.Error))
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    return database_error and not _connection_usable()


def _connection_usable() -> bool:
    if connection.connection is None:
        return False  # Django dropped it: rolling back on it failed
    try:
        return connection.is_usable()
    except Exception:
        return False


def _lost_what(exc: BaseException) -> str:
    error, seen = exc, set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, _REDIS_ERRORS):
            return f"Redis ({type(error).__name__})"
        error = error.__cause__ or error.__context__
    return f"the database ({type(exc).__name__})"


def drop_connection() -> None:
    """Close this thread's database connection (broken or not): the next query opens a new one."""
    try:
        connection.close()
    except Exception:  # closing a broken connection may complain; it is gone either way
        connection.connection = None


def retry_delay(attempt: int) -> float:
    """Seconds before the ``attempt``-th run after a connection failure: JOB_RETRY_DELAY_SECONDS, doubling."""
    return min(settings.JOB_RETRY_DELAY_SECONDS * 2 ** max(attempt - 1, 0), 300.0)


def _when_reachable(write, what: str):
    """``write()`` (a short write of the job record), tried again while PostgreSQL is out of reach (0.5 s,
    doubling to 5 s) for up to JOB_STALE_SECONDS: by then resume_stale_jobs would take the job over anyway.
    Its result, or None when the database never came back in that time."""
    deadline = time.monotonic() + settings.JOB_STALE_SECONDS
    pause = 0.5
    while True:
        try:
            return write()
        except Exception as exc:
            if connection.in_atomic_block or not is_connection_failure(exc):
                raise
            drop_connection()
            if time.monotonic() + pause > deadline:
                logger.warning("%s: the database is still out of reach (%s)", what, type(exc).__name__)
                return None
        time.sleep(pause)
        pause = min(pause * 2, 5.0)


# ----------------------------------------------------------------------------- running a job

def run(job_id: str, *, requeue=None) -> str | None:
    """Run (or continue) a pending job; its final status, None if it was not ours to run, or ``pending``
    when a connection failure put it back: then ``requeue(job_id, delay)`` sends it again (the Celery task
    does), or without ``requeue`` it runs again here after the delay (commands)."""
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
        if is_connection_failure(exc):
            if connection.in_atomic_block:  # the caller's transaction (a request) is lost with it: its error
                raise
            return _interrupted(job, lease, exc, requeue)
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        _fail(job, lease, f"internal error ({type(exc).__name__}); the worker log has the details")
    return job.status


def _interrupted(job: Job, lease: str, exc: BaseException, requeue) -> str | None:
    """After a connection failure: back to pending for a run from the checkpoint after a backoff, or failed
    once JOB_MAX_ATTEMPTS runs were made. The job record's write waits for the database (``_when_reachable``);
    if it never comes back in time the job stays processing without heartbeat, and resume_stale_jobs
    resumes it once its heartbeat is JOB_STALE_SECONDS old."""
    drop_connection()
    lost = _lost_what(exc)
    if job.attempts >= settings.JOB_MAX_ATTEMPTS:
        logger.warning("job %s (%s): lost its connection to %s on attempt %d of %d: failed", job.pk, job.kind,
                       lost, job.attempts, settings.JOB_MAX_ATTEMPTS)
        _fail(job, lease, f"gave up after {job.attempts} attempts: the connection to {lost} was lost "
                          "during the last one (the earlier ones were lost too, or their worker stopped)")
        return job.status
    delay = retry_delay(job.attempts)
    logger.warning("job %s (%s): lost its connection to %s on attempt %d of %d; it continues from its last "
                   "checkpoint in %g s", job.pk, job.kind, lost, job.attempts, settings.JOB_MAX_ATTEMPTS, delay)

    def put_back() -> int:
        now = timezone.now()
        # for a pending job heartbeat_at is when its message is due: resume_stale_jobs sends it again only
        # if nobody claimed it JOB_STALE_SECONDS after that
        return Job.objects.filter(pk=job.pk, lease=lease, status=Job.PROCESSING).update(
            status=Job.PENDING, lease="", heartbeat_at=now + timedelta(seconds=delay), updated_at=now)

    put = _when_reachable(put_back, f"job {job.pk}: putting it back to pending")
    if put is None:
        return None  # still processing, its heartbeat stopped: resume_stale_jobs resumes it
    if not put:
        return None  # cancelled or taken over meanwhile
    if requeue is not None:
        requeue(job.pk, delay)
        return Job.PENDING
    time.sleep(delay)
    return run(job.pk)


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
    def write() -> bool:
        job.refresh_from_db()  # drop what the failed chunk changed in memory
        with transaction.atomic():
            try:
                _hold(job, lease)
            except LeaseLost:
                return False
            job.error = reason[:2000]
            _write_error_file(job)  # the rows that failed before the job did
            _end(job, Job.FAILED)
        return True

    if connection.in_atomic_block:
        write()
    else:
        _when_reachable(write, f"job {job.pk}: recording its failure")


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
                try:
                    Job.objects.filter(pk=self.job_id, lease=self.lease, status=Job.PROCESSING).update(
                        heartbeat_at=timezone.now())
                except Exception as exc:  # a missed beat only risks a needless takeover, which the lease makes safe
                    if not is_connection_failure(exc):
                        raise
                    # the database is out of reach: beat again on a new connection once it is back
                    logger.warning("job %s: heartbeat missed (%s)", self.job_id, type(exc).__name__)
                    drop_connection()
        except Exception:
            logger.exception("job %s: heartbeat failed", self.job_id)
        finally:
            drop_connection()
