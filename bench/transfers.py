"""Measuring the customer import and export jobs (docs/transfers.md) the way production runs them: in a real
Celery worker process started for the measurement (``--pool solo``: the job runs in that process), whose
peak resident memory is read from the kernel (``VmHWM`` of /proc/<pid>/status) when the job is done.

For ``make bench`` (issue 6 targets: a 1,000,000-row CSV imported in ≤ 120 s end to end; 1,000,000
customers exported to CSV in ≤ 20 s and to XLSX in ≤ 120 s; the worker's peak memory ≤ 300 MB each)::

    from bench import transfers
    path = transfers.write_import_csv("/tmp/import.csv", 1_000_000)          # deterministic rows
    transfers.measure_import(application_id, path)   # {"seconds", "peak_rss_mb", "rows", "success", ...}
    transfers.measure_export(application_id, "csv")  # {"seconds", "peak_rss_mb", "rows", "bytes", ...}

Both need Django set up (``django.setup()``) against the database and Redis the worker should use
(settings.DATABASE_URL / REDIS_URL / MEDIA_ROOT are handed to the worker). ``seconds`` is end to end:
from the job's creation (for an import: served over HTTP from a local file server and fetched by the
guarded downloader, as bulkImportStoreFrontUsers does; ``via="file"`` stores the file first, as the
admin upload and ``manage.py import_customers`` do) until the job is finished, the worker already
running. ``job_seconds`` is the job's own started_at → finished_at.

``python -m bench.transfers --rows 100000`` runs all three on a fresh application and prints the figures.
"""

from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
IMPORT_HEADER = ("first_name", "last_name", "email", "phone_number", "country_code", "gender", "dob", "external_id")
SEED = 20_250_601
TIMEOUT_SECONDS = 1800


# ----------------------------------------------------------------------------- input data

def write_import_csv(path, rows: int, *, start: int = 0) -> Path:
    """A CSV of ``rows`` distinct, valid customers (row i is always the same person; ``start`` shifts the
    numbering, so two files with disjoint ranges never share an email or phone)."""
    from bench.seed import FEMALE, LAST, MALE, email_of, phone_of

    path = Path(path)
    rng = random.Random(SEED + start)
    names = MALE + FEMALE
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(IMPORT_HEADER)
        for i in range(start, start + rows):
            f = rng.randrange(len(names))
            first, last = names[f], LAST[rng.randrange(len(LAST))]
            dob = f"{1960 + rng.randrange(46)}-{1 + rng.randrange(12):02d}-{1 + rng.randrange(28):02d}" \
                if rng.random() < 0.7 else ""
            writer.writerow((first.title(), last.title(), email_of(i, first, last, rng.randrange(1 << 16)),
                             phone_of(i), "91", "male" if f < len(MALE) else "female", dob,
                             f"crm-{i}" if rng.random() < 0.3 else ""))
    return path


# ----------------------------------------------------------------------------- the worker

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
    queue = f"bench-transfers-{uuid.uuid4().hex[:12]}"
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


class _CpuWatch:
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


def _run(job, process, queue: str, started: float, watch) -> dict:
    from core.models import Job
    from core.tasks import run_job

    run_job.apply_async(args=[job.pk], queue=queue)
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


# ----------------------------------------------------------------------------- measurements

def _work_dir(path=None) -> Path:
    from django.conf import settings

    work = Path(path or Path(settings.VAR_DIR) / "bench")
    work.mkdir(parents=True, exist_ok=True)
    return work


@contextmanager
def _serve(path: Path):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(path.stat().st_size))
            self.send_header("Content-Type", "text/csv")
            self.end_headers()
            with path.open("rb") as handle:
                while block := handle.read(1 << 20):
                    self.wfile.write(block)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}/{path.name}"
    finally:
        server.shutdown()
        server.server_close()


def measure_import(application_id: str, csv_path, *, via: str = "url", log_dir=None) -> dict:
    """Import ``csv_path`` into the application in a fresh worker; the figures and the job's counts."""
    from django.test import override_settings

    from core.actors import Actor
    from core.models import Application
    from users.transfers import imports

    csv_path = Path(csv_path)
    application = Application.objects.get(pk=application_id)
    actor = Actor.system("bench.transfers")
    log = _work_dir(log_dir) / "transfers-import-worker.log"
    with worker(log, FILE_URL_ALLOWED_HOSTS="localhost") as (process, queue):
        if via == "url":
            with _serve(csv_path) as url, override_settings(FILE_URL_ALLOWED_HOSTS=["localhost"]):
                watch, started = _CpuWatch(process), time.perf_counter()
                job = imports.start_import(application, actor, absolute_url=url, file_format="csv")
                result = _run(job, process, queue, started, watch)
        else:
            watch, started = _CpuWatch(process), time.perf_counter()
            with csv_path.open("rb") as handle:
                job = imports.start_import_of_file(application, actor, handle, csv_path.name, "csv", enqueue=False)
            result = _run(job, process, queue, started, watch)
    job.refresh_from_db()
    return {**result, "rows": job.total, "success": job.success_count, "errors": job.error_count,
            "bytes": csv_path.stat().st_size}


def measure_export(application_id: str, file_format: str = "csv", *, log_dir=None) -> dict:
    """Export every live customer of the application in a fresh worker; the figures and the file's size."""
    from core import files
    from core.actors import Actor
    from core.models import Application
    from users.transfers import exports

    application = Application.objects.get(pk=application_id)
    log = _work_dir(log_dir) / f"transfers-export-{file_format}-worker.log"
    with worker(log) as (process, queue):
        watch, started = _CpuWatch(process), time.perf_counter()
        job = exports.start_export(application, Actor.system("bench.transfers"), file_format=file_format,
                                   enqueue=False)
        result = _run(job, process, queue, started, watch)
    job.refresh_from_db()
    size = 0
    if job.result_file:
        with files.open_file(job.result_file) as handle:
            size = handle.seek(0, 2)
    return {**result, "rows": job.success_count, "bytes": size, "file": job.result_file}


# ----------------------------------------------------------------------------- command line

def main(argv=None) -> int:
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m bench.transfers", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--via", choices=["url", "file"], default="url")
    parser.add_argument("--keep", action="store_true", help="keep the application and its customers")
    args = parser.parse_args(argv)
    os.chdir(BASE_DIR)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from core import services

    call_command("migrate", verbosity=0)
    application, _ = services.create_application(company_id=990002, name=f"Transfers bench {args.rows:,}")
    work = _work_dir()
    path = work / f"import-{args.rows}.csv"
    if not path.exists():
        write_import_csv(path, args.rows)
    figures = {}
    try:
        figures["import_csv"] = measure_import(application.id, path, via=args.via)
        print(json.dumps({"import_csv": figures["import_csv"]}), flush=True)
        for file_format in ("csv", "xlsx"):
            figures[f"export_{file_format}"] = measure_export(application.id, file_format)
            print(json.dumps({f"export_{file_format}": figures[f"export_{file_format}"]}), flush=True)
    finally:
        if not args.keep:
            _drop(application)
    return 0


def _drop(application) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("users_customeremail", "users_customerphone", "users_auditevent", "users_customer"):
            cursor.execute(f"DELETE FROM {table} WHERE application_id = %s", [application.id])
    application.jobs.all().delete()
    application.delete()


if __name__ == "__main__":
    sys.exit(main())
