"""Background jobs: one record (``Job``), one runner, one handler per kind.

A feature registers a handler for its kind (in its ``AppConfig.ready``, so that web processes and
workers both know it) and creates jobs; the runner (``core/jobs/runner.py``) does the rest::

    from core import jobs

    @jobs.register("customer_import")
    class CustomerImport(jobs.JobHandler):
        action_type = "import"            # optional: BulkActionModel.action_type (default: the kind)
        Payload = ImportPayload           # a frozen dataclass: self.payload(job) reads job.payload as one

        def chunks(self, job, checkpoint):
            # yield (rows, next_checkpoint) from `checkpoint` (None: the start) to the end
            ...

        def apply(self, job, rows):
            # the work of one chunk, in the database only
            return jobs.ChunkResult(success=2, errors=[(3, "asha@example.com", "email is not valid")])

        def finish(self, job):            # optional: once, after the last chunk
            ...

    job = jobs.create_job(application, "customer_import", Actor.from_request(request),
                          payload=jobs.payload_dict(ImportPayload(...)))

The contract (docs/jobs.md tells the why):

- ``chunks(job, checkpoint)`` is deterministic: from the same checkpoint it yields the same rows
  (read a stored copy of the input: ``stored_input`` for a ``*_file_url``, ``store_job_input`` for a
  local file; or database rows in key order; never a live URL twice). It may
  set ``job.total`` (and ``job.result_file``); the runner saves them with the next chunk.
- ``apply(job, rows)`` returns ``ChunkResult(success, errors)`` (a plain ``(success, errors)`` tuple
  will do), errors being ``(row_number, reference, message)`` tuples. The runner runs it, stores the
  errors and advances the counters and the checkpoint in ONE transaction: a worker killed at any
  moment leaves the whole chunk or none of it. So apply writes to the database only (no files, no
  messages to the outside). ``processed`` grows by ``success`` plus the number of rows with errors.
- ``finish(job)`` runs in the transaction that completes the job; a killed worker may run it again,
  so it must be idempotent (write files under a fixed name, e.g. ``core.files.job_file_name``).
- Raising ``core.api.errors.ServiceError`` (``core.files.downloads.DownloadError`` is one) fails the job with
  that message; any other exception fails it with "internal error" and is logged with its traceback.
- A set-based handler (a COPY into a staging table, one big UPDATE) yields a single chunk.

Modules, each depending only on those above it: ``models`` → ``handlers`` (registry) → ``selectors`` →
``runner`` → ``tasks`` (Celery, queueing) → ``services`` (create, cancel) → ``presenters`` / ``views``
/ ``admin`` / ``progress`` (commands). This package re-exports what features use.
"""

from core.jobs.handlers import (  # noqa: F401
    ChunkResult, JobHandler, NoPayload, RowError, handler_for, load_handler_modules, on_job_ended, payload_dict,
    register)
from core.jobs.selectors import get_job, job_errors  # noqa: F401
from core.jobs.services import actor_of, cancel_job, create_job, store_job_input, stored_input  # noqa: F401
from core.jobs.tasks import enqueue_job, resume_stale_jobs  # noqa: F401
from core.jobs.runner import run as run_job  # noqa: F401
