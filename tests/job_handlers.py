"""Job handlers for the tests. The test process imports this module; a real Celery worker started by
a test loads it through ``JOB_HANDLER_MODULES=tests.job_handlers`` (core.apps imports those modules).

``test_rows`` creates one Application per input row, with an id derived from the job and the row:
applying a row twice would hit the primary key and fail the job, so "nothing applied twice" is
checked by the database itself. Payload: rows, chunk_size, sleep (seconds per chunk), fail_at
(a row whose chunk raises a ServiceError), crash_at (a row whose chunk raises a bug),
cancel_after / takeover_after (the last row of a chunk after which the job is cancelled / taken over),
blip_at (a row whose chunk loses its database connection in the first ``blip_runs`` runs: OperationalError).
Rows that are multiples of 7 are reported as errors instead of applied.
"""

import time
from dataclasses import dataclass

from core import jobs
from core.api.errors import ServiceError
from core.tenancy.models import Application
from core.jobs.models import Job


def row_application_id(job, n: int) -> str:
    return f"{job.pk[:16]}{n:08x}"


@dataclass(frozen=True)
class RowsPayload:
    rows: int
    chunk_size: int = 10
    sleep: float = 0
    fail_at: int | None = None
    crash_at: int | None = None
    cancel_after: int | None = None
    takeover_after: int | None = None
    blip_at: int | None = None
    blip_runs: int = 1


@jobs.register("test_rows")
class RowsHandler(jobs.JobHandler):
    action_type = "import"
    Payload = RowsPayload

    def chunks(self, job, checkpoint):
        payload = self.payload(job)
        rows, size = payload.rows, payload.chunk_size
        job.total = rows
        start = (checkpoint or {}).get("next", 1)
        for first in range(start, rows + 1, size):
            last = min(first + size - 1, rows)
            yield list(range(first, last + 1)), {"next": last + 1}
            if payload.cancel_after == last:
                jobs.cancel_job(job)
            if payload.takeover_after == last:  # as resume_stale_jobs + another worker would
                Job.objects.filter(pk=job.pk).update(lease="another-worker")

    def apply(self, job, rows):
        payload = self.payload(job)
        time.sleep(payload.sleep)
        if payload.fail_at in rows:
            raise ServiceError(f"row {payload.fail_at} cannot be read")
        if payload.crash_at in rows:
            raise KeyError("a bug")
        if payload.blip_at in rows and job.attempts <= payload.blip_runs:
            from django.db import OperationalError

            raise OperationalError("server closed the connection unexpectedly")
        errors, success = [], 0
        for n in rows:
            if n % 7 == 0:
                errors.append((n, f"row-{n}", "multiple of seven"))
            else:
                Application.objects.create(id=row_application_id(job, n), company_id=job.company_id,
                                           name=f"job row {n}", token_hash="-")
                success += 1
        return jobs.ChunkResult(success, errors)


@jobs.register("test_set_based")
class SetBasedHandler(jobs.JobHandler):
    """One step for the whole input; finish writes a result file (idempotent: a fixed name)."""

    def chunks(self, job, checkpoint):
        if checkpoint is None:
            job.total = 4
            yield "staged", "done"

    def apply(self, job, rows):
        return 3, [(None, "", "one row of the file has no id")]

    def finish(self, job):
        from core import files

        job.result_file = files.write_csv(files.job_file_name(job, "result.csv"), ["n"], [[1], [2], [3]])
