"""The management commands that start jobs (bulk_update_attributes, import_customers, export_customers,
process_group) run them here with a progress bar, or hand them to the workers with --queue."""

import threading
import time

from django.core.management.base import CommandError
from django.db import connection, connections
from tqdm import tqdm

from core import files
from core.jobs import runner, tasks
from core.jobs.models import Job


def _run_and_disconnect(job_id: str) -> None:
    try:
        runner.run(job_id)
    finally:
        connections.close_all()  # this thread's own database connection


def run_with_progress(job: Job, unit: str) -> Job:
    """Run ``job`` in a thread here, show its progress, and return it finished (CommandError if it failed).
    A caller inside a transaction (a test) runs it in its own thread, where the job is visible."""
    with tqdm(unit=unit, disable=None) as bar:  # shown on a terminal, silent in logs
        if connection.in_atomic_block:  # a thread's own connection would not see the uncommitted job
            runner.run(job.pk)
        else:
            worker = threading.Thread(target=_run_and_disconnect, args=(job.pk,), daemon=True)
            worker.start()
            while worker.is_alive():
                _update(bar, Job.objects.get(pk=job.pk))
                time.sleep(0.2)
            worker.join()
        done = Job.objects.get(pk=job.pk)
        _update(bar, done)
    if done.status == Job.FAILED:
        raise CommandError(f"job {done.pk} failed: {done.error}")
    return done


def _update(bar, job: Job) -> None:
    bar.total = job.total or None
    bar.n = job.processed
    bar.refresh()


def run_or_queue(command, job: Job, *, queue: bool, unit: str, follow: str = "") -> Job | None:
    """With ``queue``: send the job to the workers, say where to follow it, return None. Otherwise run it
    here with a progress bar and return it finished."""
    if queue:
        tasks.enqueue_job(job.pk)
        command.stdout.write(f"job {job.pk} queued; follow it at {follow or f'…/users/jobs/{job.pk}'} or in the admin")
        return None
    return run_with_progress(job, unit)


def link(name: str) -> str:
    return files.signed_url(name) if name else ""
