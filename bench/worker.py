"""A real Celery worker for the job scenarios of `make bench`, and what it costs.

``worker(log)`` starts ``celery -A config worker --pool solo`` (the job runs in that very process) on a
queue of its own, so that a `make run` worker on the same Redis never takes the bench's jobs; ``run_job``
sends a job there and waits for it; the worker's peak resident memory is the kernel's ``VmHWM`` of the
process (a fresh worker per measurement, so the peak is this job's). ``JobWatch`` counts the CPU seconds
of the worker, of the embedded PostgreSQL and of everything else meanwhile. ``serve_file`` serves an
input file over HTTP from this process, as a merchant's file server would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from tests.file_server import serve_files

BASE_DIR = Path(__file__).resolve().parent.parent
TIMEOUT_SECONDS = 1800


def _worker_env(**extra) -> dict:
    from django.conf import settings

    env = {k: v for k, v in os.environ.items() if k != "PYTEST_VERSION"}
    env.update(DATABASE_URL=settings.DATABASE_URL, REDIS_URL=settings.REDIS_URL, MEDIA_ROOT=str(settings.MEDIA_ROOT),
               VAR_DIR=str(settings.VAR_DIR), DJANGO_SETTINGS_MODULE="config.settings", LOG_LEVEL="WARNING",
               **{k: str(v) for k, v in extra.items()})
    return env


@contextmanager
def worker(log: Path, **env):
    """A Celery worker (solo pool) on a queue of its own, ready when yielded: (process, queue)."""
    queue = f"bench-{uuid.uuid4().hex[:12]}"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--queues", queue,
         "--hostname", f"{queue}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "--loglevel", "INFO"],
        cwd=BASE_DIR, env=_worker_env(**env), stdout=log.open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while b" ready." not in log.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Celery worker did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.05)
        yield process, queue
    finally:
        if process.poll() is None:
            os.killpg(process.pid, 15)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait()


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size so far (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/<pid>/status")


class JobWatch:
    """CPU seconds of the worker, of the embedded PostgreSQL (its postmaster's process tree, sampled while
    the job runs: a backend that exits takes its counters with it) and of the whole machine: a busy
    machine (other processes, ``other_cores``) slows the figures down."""

    def __init__(self, process):
        from django.conf import settings

        from bench.machine import _busy_seconds, postmaster_pid

        self.worker = process.pid
        self.postmaster = postmaster_pid(Path(settings.VAR_DIR) / "pgdata")
        self.began, self.busy = time.monotonic(), _busy_seconds()
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.children_rss = 0  # peak RSS seen of the worker's children (the import's row reader process)
        self.poll()
        self.first = dict(self.last)

    def poll(self) -> None:
        import psutil

        from bench.machine import _tree

        try:
            for child in psutil.Process(self.worker).children(recursive=True):
                self.children_rss = max(self.children_rss, child.memory_info().rss)
        except psutil.Error:
            pass
        for proc in [psutil.Process(self.worker), *_tree(self.postmaster)]:
            try:
                times = proc.cpu_times()
            except psutil.Error:
                continue
            self.last[proc.pid] = times.user + times.system

    def stop(self) -> dict:
        from bench.machine import _busy_seconds

        self.poll()
        elapsed, busy = time.monotonic() - self.began, _busy_seconds() - self.busy
        used = {pid: cpu - self.first.get(pid, 0.0) for pid, cpu in self.last.items()}
        worker = used.pop(self.worker, 0.0)
        postgres = sum(used.values())
        return {"children_peak_rss_mb": round(self.children_rss / 2**20, 1),
                "worker_cpu_seconds": round(worker, 2), "postgres_cpu_seconds": round(postgres, 2),
                "other_cores": round(max(0.0, busy - worker - postgres) / max(elapsed, 1e-6), 2)}


def run_job(job, process, queue: str, started: float, watch) -> dict:
    """Send the job to the worker's queue and wait for it; seconds since ``started``, peak RSS, CPU."""
    from core.jobs.tasks import run_job as task

    task.apply_async(args=[job.pk], queue=queue)
    return wait_for(job, process, started, watch)


def wait_for(job, process, started: float, watch) -> dict:
    """Wait until the (already queued) job is finished; its figures."""
    from core.jobs.models import Job

    deadline = time.monotonic() + TIMEOUT_SECONDS
    polls = 0
    while True:
        polls += 1
        if polls % 5 == 0:
            watch.poll()
        job.refresh_from_db()
        if job.status not in Job.ACTIVE:
            break
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"job {job.pk} did not finish (worker exit {process.poll()})")
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(peak_rss_mb(process.pid), 1), **watch.stop(),
            "job_seconds": round((job.finished_at - job.started_at).total_seconds(), 2),
            "status": job.status, "job_id": job.pk, "error": job.error}


@contextmanager
def routed_to(queue: str):
    """Jobs that services queue themselves (``core.jobs.enqueue_job``) go to this worker's queue."""
    from unittest import mock

    from core.jobs.tasks import run_job as task

    with mock.patch.object(task, "delay", lambda job_id: task.apply_async(args=[job_id], queue=queue)):
        yield


def work_dir(path=None) -> Path:
    from django.conf import settings

    work = Path(path or Path(settings.VAR_DIR) / "bench")
    work.mkdir(parents=True, exist_ok=True)
    return work


@contextmanager
def serve_file(path: Path):
    """The file over HTTP at http://localhost:<port>/<name>, streamed (FILE_URL_ALLOWED_HOSTS: localhost)."""
    with serve_files({f"/{path.name}": path}) as base:
        yield f"{base}/{path.name}"


