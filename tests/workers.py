"""Real Celery workers as separate processes, for the tests that kill one in the middle of a job.

The worker uses the pytest database (test_<name>), the same Redis, the given MEDIA_ROOT or the test's
S3-compatible store (tests/s3_server.py), and listens on a queue of its own (``private_queue``) so that
no other worker on this Redis takes the task.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection

from config import celery_app
from core.jobs import tasks as _tasks  # noqa: F401  registers the tasks with celery_app
from tests.s3_server import storage_env

ROOT = Path(__file__).resolve().parent.parent


def worker_env(media_root, **extra) -> dict:
    database_url = urlsplit(settings.DATABASE_URL)._replace(path="/" + connection.settings_dict["NAME"]).geturl()
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_VERSION"}
    env.update(DATABASE_URL=database_url, REDIS_URL=settings.REDIS_URL, MEDIA_ROOT=str(media_root),
               DJANGO_SETTINGS_MODULE="config.settings", **storage_env())
    env.update({k: str(v) for k, v in extra.items()})
    return env


def private_queue(monkeypatch, task_name: str = "core.jobs.tasks.run_job") -> str:
    """Route the task to a fresh queue for this test."""
    queue = f"test-{uuid.uuid4().hex}"
    task = celery_app.tasks[task_name]
    monkeypatch.setattr(task, "queue", queue, raising=False)
    monkeypatch.setattr(task, "_exec_options", None)
    return queue


def start_worker(env: dict, queue: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--queues", queue,
         "--hostname", f"{queue}-{uuid.uuid4().hex[:6]}@%h", "--without-gossip", "--without-mingle",
         "--without-heartbeat", "--loglevel", "INFO"],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)


def stop(worker: subprocess.Popen, sig=signal.SIGKILL) -> None:
    """SIGKILL by default: no warm shutdown, the process dies mid-chunk and its transaction with it."""
    if worker.poll() is None:
        os.killpg(worker.pid, sig)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)


def wait_for(condition, what: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}; worker log:\n{log.read_text()[-3000:]}"
        time.sleep(0.02)


def kill_midway(job_id: str, env: dict, queue: str, log: Path, *, when, what: str) -> None:
    """Queue the job to a new worker and SIGKILL it as soon as ``when(job)`` holds."""
    from core import jobs
    from core.jobs.models import Job

    worker = start_worker(env, queue, log)
    try:
        jobs.enqueue_job(job_id)  # autocommit here: sent at once
        wait_for(lambda: when(Job.objects.get(pk=job_id)), what, log)
    finally:
        stop(worker)


def resume_in_new_worker(job_id: str, env: dict, queue: str, log: Path) -> None:
    """What beat does for a job whose worker died: resume_stale_jobs queues it again once its heartbeat
    is stale (1 s here), and a new worker finishes it."""
    from django.test import override_settings

    from core import jobs
    from core.jobs.models import Job

    with override_settings(JOB_STALE_SECONDS=1):
        wait_for(lambda: jobs.resume_stale_jobs() == [job_id], "the job to go stale", log, timeout=10)
        worker = start_worker({**env, "JOB_STALE_SECONDS": "1"}, queue, log)
        try:
            wait_for(lambda: Job.objects.get(pk=job_id).status not in Job.ACTIVE, "the new worker to finish", log)
        finally:
            stop(worker, signal.SIGTERM)
