"""Measuring the customer import and export jobs (docs/transfers.md) the way production runs them: in a real
Celery worker process started for the measurement (``--pool solo``: the job runs in that process), whose
peak resident memory is read from the kernel (``VmHWM`` of /proc/<pid>/status) when the job is done.

For ``make bench`` (targets as ratios to the references of the same run, bench/job_scenarios.py: the
import beside plain COPYs of its file, the exports beside one COPY … TO of their rows; worker peak memory
≤ 150 MB each)::

    from bench import transfers
    path = transfers.write_import_csv("/tmp/import.csv", 1_000_000)          # deterministic rows
    transfers.write_import_csv_with_hashes("/tmp/import-bcrypt.csv", 1_000_000)  # + password_hash (bcrypt)
    transfers.measure_import(application_id, path)   # {"seconds", "peak_rss_mb", "rows", "success", ...}
    transfers.measure_export(application_id, "csv")  # {"seconds", "peak_rss_mb", "rows", "bytes", ...}

Both need Django set up (``django.setup()``) against the database and Redis the worker should use
(settings.DATABASE_URL / REDIS_URL / MEDIA_ROOT are handed to the worker). ``seconds`` is end to end:
from the job's creation (for an import: served over HTTP from a local file server and fetched by the
guarded downloader, as bulkImportStoreFrontUsers does; ``via="file"`` stores the file first, as the
admin upload and ``manage.py import_customers`` do) until the job is finished, the worker already
running. ``job_seconds`` is the job's own started_at → finished_at.

``store``: an S3-compatible server (``s3_store()``: moto in server mode, tests/s3_server.py) whose bucket the
worker (and this process, for what it stores or reads itself) uses instead of the filesystem, under a
prefix of the measurement: the cost of the storage choice (docs/storage.md), the ``*_s3`` scenarios.

``python -m bench.transfers --rows 100000`` runs all three on a fresh application and prints the figures
(``--storage s3`` or ``both``: on the S3-compatible store too).
"""

from __future__ import annotations

import csv
import os
import random
import sys
import time
import uuid
from contextlib import contextmanager, nullcontext
from pathlib import Path

from bench.worker import BASE_DIR, JobWatch, run_job, serve_file, work_dir, worker

IMPORT_HEADER = ("first_name", "last_name", "email", "phone_number", "country_code", "gender", "dob", "external_id")
SEED = 20_250_601
BCRYPT_HASHES = 64  # distinct bcrypt hashes in the file with hashes, cycled (making a million would take hours)
BCRYPT_COST = 10
BCRYPT_PASSWORD = "Bench-moved-in-{}"  # the password of hash k


# ----------------------------------------------------------------------------- input data

def write_import_csv(path, rows: int, *, start: int = 0, password_hashes: list[str] | None = None) -> Path:
    """A CSV of ``rows`` distinct, valid customers (row i is always the same person; ``start`` shifts the
    numbering, so two files with disjoint ranges never share an email or phone). With ``password_hashes``,
    the same rows plus a ``password_hash`` column: row i gets ``password_hashes[i % len(password_hashes)]``."""
    from bench.seed import FEMALE, LAST, MALE, email_of, phone_of

    path = Path(path)
    rng = random.Random(SEED + start)
    names = MALE + FEMALE
    hashes = list(password_hashes or ())
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(IMPORT_HEADER + (("password_hash",) if hashes else ()))
        for i in range(start, start + rows):
            f = rng.randrange(len(names))
            first, last = names[f], LAST[rng.randrange(len(LAST))]
            dob = f"{1960 + rng.randrange(46)}-{1 + rng.randrange(12):02d}-{1 + rng.randrange(28):02d}" \
                if rng.random() < 0.7 else ""
            row = (first.title(), last.title(), email_of(i, first, last, rng.randrange(1 << 16)),
                   phone_of(i), "91", "male" if f < len(MALE) else "female", dob,
                   f"crm-{i}" if rng.random() < 0.3 else "")
            writer.writerow(row + (hashes[i % len(hashes)],) if hashes else row)
    return path


def bcrypt_hashes(count: int = BCRYPT_HASHES, cost: int = BCRYPT_COST) -> list[str]:
    """``count`` real bcrypt hashes (``$2b$``, ``cost``) made by the ``bcrypt`` package, hash k of the
    password BCRYPT_PASSWORD.format(k): what a store moving from another platform brings."""
    import bcrypt

    return [bcrypt.hashpw(BCRYPT_PASSWORD.format(k).encode(), bcrypt.gensalt(rounds=cost, prefix=b"2b")).decode()
            for k in range(count)]


def write_import_csv_with_hashes(path, rows: int, *, start: int = 0, hashes: list[str] | None = None) -> Path:
    """The file of ``write_import_csv`` with a ``password_hash`` column of bcrypt hashes (``bcrypt_hashes``,
    cycled), written under a temporary name and renamed, so that an interrupted run leaves no half file."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    write_import_csv(partial, rows, start=start, password_hashes=hashes or bcrypt_hashes())
    partial.replace(path)
    return path


# ----------------------------------------------------------------------------- the S3-compatible store

@contextmanager
def s3_store(log_dir=None):
    """A moto server of its own (tests/s3_server.py) with a bucket, for the measurements on object storage."""
    from tests.s3_server import S3Server

    with S3Server(bucket="customers-bench", log=work_dir(log_dir) / "moto.log") as server:
        yield server


def _on_store(store, what: str):
    """(context in which this process uses the store, environment giving the worker the same store)."""
    if store is None:
        return nullcontext(), {}
    from django.conf import settings
    from django.test import override_settings

    prefix = f"bench/{what}-{uuid.uuid4().hex[:8]}"
    return override_settings(STORAGES={**settings.STORAGES, "default": store.storage(prefix)}), store.env(prefix)


# ----------------------------------------------------------------------------- measurements

def measure_import(application_id: str, csv_path, *, via: str = "url", log_dir=None, store=None) -> dict:
    """Import ``csv_path`` into the application in a fresh worker; the figures and the job's counts."""
    from django.test import override_settings

    from core.actors import Actor
    from core.tenancy.models import Application
    from users.transfers import imports

    csv_path = Path(csv_path)
    application = Application.objects.get(pk=application_id)
    actor = Actor.system("bench.transfers")
    log = work_dir(log_dir) / f"transfers-import-worker{'-s3' if store else ''}.log"
    on_store, store_env = _on_store(store, "import")
    with on_store, worker(log, FILE_URL_ALLOWED_HOSTS="localhost", **store_env) as (process, queue):
        if via == "url":
            with serve_file(csv_path) as url, override_settings(FILE_URL_ALLOWED_HOSTS=["localhost"]):
                watch, started = JobWatch(process), time.perf_counter()
                job = imports.start_import(application, actor, absolute_url=url, file_format="csv")
                result = run_job(job, process, queue, started, watch)
        else:
            watch, started = JobWatch(process), time.perf_counter()
            with csv_path.open("rb") as handle:
                job = imports.start_import_of_file(application, actor, handle, csv_path.name, "csv", enqueue=False)
            result = run_job(job, process, queue, started, watch)
    job.refresh_from_db()
    return {**result, "rows": job.total, "success": job.success_count, "errors": job.error_count,
            "bytes": csv_path.stat().st_size}


def measure_export(application_id: str, file_format: str = "csv", *, log_dir=None, store=None) -> dict:
    """Export every live customer of the application in a fresh worker; the figures and the file's size."""
    from core import files
    from core.actors import Actor
    from core.tenancy.models import Application
    from users.transfers import exports

    application = Application.objects.get(pk=application_id)
    log = work_dir(log_dir) / f"transfers-export-{file_format}-worker{'-s3' if store else ''}.log"
    on_store, store_env = _on_store(store, f"export-{file_format}")
    with on_store:
        with worker(log, **store_env) as (process, queue):
            watch, started = JobWatch(process), time.perf_counter()
            job = exports.start_export(application, Actor.system("bench.transfers"), file_format=file_format,
                                       enqueue=False)
            result = run_job(job, process, queue, started, watch)
        job.refresh_from_db()
        size = 0
        if job.result_file:
            _handle, size = files.open_stream(job.result_file)
            _handle.close()
            if store is not None:  # the bucket keeps nothing of the bench
                files.delete_file(job.result_file)
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
    parser.add_argument("--storage", choices=["filesystem", "s3", "both"], default="filesystem",
                        help="where the jobs keep their files: MEDIA_ROOT, a moto server's bucket, or each in turn")
    args = parser.parse_args(argv)
    os.chdir(BASE_DIR)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from config import servers
    from core.tenancy import services

    servers.start_embedded(settings)

    call_command("migrate", verbosity=0)
    application, _ = services.create_application(company_id=990002, name=f"Transfers bench {args.rows:,}")
    work = work_dir()
    path = work / f"import-{args.rows}.csv"
    if not path.exists():
        write_import_csv(path, args.rows)
    figures = {}
    stores = {"filesystem": [None], "s3": ["s3"], "both": [None, "s3"]}[args.storage]
    try:
        with s3_store() if "s3" in stores else nullcontext() as server:
            for store in stores:
                suffix, on = ("_s3", server) if store else ("", None)
                if figures:  # the second import: into the same, emptied application
                    drop_customers(application)
                figures["import_csv" + suffix] = measure_import(application.id, path, via=args.via, store=on)
                print(json.dumps({"import_csv" + suffix: figures["import_csv" + suffix]}), flush=True)
                for file_format in ("csv", "xlsx"):
                    key = f"export_{file_format}{suffix}"
                    figures[key] = measure_export(application.id, file_format, store=on)
                    print(json.dumps({key: figures[key]}), flush=True)
    finally:
        if not args.keep:
            drop_customers(application)
            application.delete()
    return 0


def drop_customers(application) -> None:
    """Empty an application of the bench: its customers (with emails, phones, audit events, the password
    hashes an import moved in, linked social identities) and jobs. The foreign keys to the customers are
    checked, not cascaded, by the database: the rows pointing at them go first."""
    from django.db import connection

    from bench.seed import delete_customers

    with connection.cursor() as cursor:
        delete_customers(cursor, application.id)
    application.jobs.all().delete()


if __name__ == "__main__":
    sys.exit(main())
