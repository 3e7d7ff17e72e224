"""The customer-group scenarios of `make bench` (targets in bench/job_scenarios.py and bench/scenarios.py,
as ratios to the references of the same run: the group file beside a plain COPY of it, page 1 of its users
beside the framework floor).

1. ``write_csv``: every live bench customer once, in random order, a third by user id, a third by
   email, a third by mobile (half of those with +91), written once with ``COPY … TO STDOUT``.
2. ``measure_group``: the group created as createUserGroup creates it (``groups.services.create_group``
   with a ``file_url`` served over HTTP from this process), processed by a fresh real Celery worker
   (bench/worker.py: peak RSS, CPU), timed from the call until the job is done.
3. Beside it, the machine's limit: a plain ``COPY`` of the same file into an unindexed table
   (bench/references.py).
The users of the group are then a load scenario like the others (bench/scenarios.py).
"""

from __future__ import annotations

import time
from pathlib import Path

import psycopg

from bench.worker import JobWatch, routed_to, serve_file, wait_for, work_dir, worker

GROUP_NAME = "make bench: 1M-row CSV"


def write_csv(conn: psycopg.Connection, application_id: str, path: Path, rows: int, log) -> Path:
    marker = path.with_suffix(".rows")
    if path.exists() and marker.exists() and marker.read_text().strip() == str(rows):
        return path
    started = time.perf_counter()
    sql = (
        "COPY (SELECT CASE WHEN n %% 3 = 0 THEN c.id ELSE '' END AS user_id,"
        " CASE WHEN n %% 3 = 1 THEN e.email ELSE '' END AS email,"
        " CASE WHEN n %% 3 = 2 THEN (CASE WHEN n %% 6 = 2 THEN '+91' ELSE '' END) || p.phone ELSE '' END"
        " AS phone_number"
        " FROM (SELECT id, row_number() OVER (ORDER BY md5(id)) AS n FROM users_customer"
        "       WHERE application_id = %s AND NOT archived LIMIT %s) c"
        " JOIN users_customeremail e ON e.customer_id = c.id AND e.\"primary\""
        " JOIN users_customerphone p ON p.customer_id = c.id AND p.\"primary\""
        " ORDER BY n) TO STDOUT WITH (FORMAT csv, HEADER)"
    )
    with path.open("wb") as out, conn.cursor().copy(sql, [application_id, rows]) as copy:
        for block in copy:
            out.write(block)
    marker.write_text(str(rows))
    log(f"groups: wrote {path.name} ({rows:,} rows, {path.stat().st_size / 2**20:.0f} MB) in "
        f"{time.perf_counter() - started:.1f} s")
    return path


def drop_bench_groups(application) -> None:
    from groups import services
    from groups.models import UserGroup

    for group_id in UserGroup.objects.filter(application=application, name=GROUP_NAME).values_list("id", flat=True):
        services.delete_group(application, group_id)


def measure_group(application_id: str, csv_path: Path, *, log_dir=None) -> dict:
    """Create the group from the file in a fresh worker; the figures, the group id and its member count."""
    from django.test import override_settings

    from core.actors import Actor
    from core.tenancy.models import Application
    from groups import services
    from groups.selectors import bulk_member_total

    application = Application.objects.get(pk=application_id)
    drop_bench_groups(application)
    log = work_dir(log_dir) / "groups-worker.log"
    with worker(log, FILE_URL_ALLOWED_HOSTS="localhost") as (process, queue):
        with serve_file(csv_path) as url, override_settings(FILE_URL_ALLOWED_HOSTS=["localhost"]), routed_to(queue):
            watch, started = JobWatch(process), time.perf_counter()
            group = services.create_group(application, {
                "name": GROUP_NAME, "description": "1,000,000-row CSV (make bench)", "type": "bulk", "file_url": url,
            }, Actor.system("make bench"))
            result = wait_for(group.job, process, started, watch)
    group.refresh_from_db()
    return {**result, "group_id": group.id, "members": bulk_member_total(application, group)}
