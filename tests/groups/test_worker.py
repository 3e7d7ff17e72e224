"""Group files on real Celery workers (separate processes, tests/workers.py): processed end to end, and a
worker SIGKILLed in the middle of a file whose job, resumed by core.jobs.resume_stale_jobs on a second
worker, ends exactly as one clean run of the same change."""

import signal
from urllib.parse import urlsplit

import psycopg
import pytest
from django.conf import settings
from django.db import connection, transaction

from core import jobs
from core.tenancy import services as core_services
from core.actors import Actor
from core.jobs.models import Job, JobError
from core.api.pagination import PageRequest
from groups import selectors, services
from groups.models import GroupMemberCount, Membership, UserGroup
from tests import workers
from tests.helpers import APP_ID, COMPANY_ID
from tests.file_server import serve_files
from users.services import create_customer

ACTOR = Actor.system("tests")
UNKNOWN = "0123456789abcdef01234567"


pytestmark = pytest.mark.usefixtures("local_file_urls")  # FILE_URL_ALLOWED_HOSTS = ["localhost"]


@pytest.fixture
def world(transactional_db, media):
    application, _ = core_services.create_application(company_id=COMPANY_ID, name="Demo", application_id=APP_ID)
    customers = [create_customer(application, {"phone_number": f"98{n:08d}", "email": f"c{n}@example.com"}, ACTOR)
                 for n in range(300)]
    return application, [c.id for c in customers]


def first_file(customer_ids) -> bytes:
    return ("user_id\n" + "\n".join(customer_ids[:100]) + "\n").encode()


def second_file(customer_ids) -> bytes:
    """Customers 50–299 by user id, email or phone, in every spelling, plus rows that name nobody."""
    lines = ["user_id,email,phone_number"]
    for n in range(50, 300):
        spelling = n % 4
        if spelling == 0:
            lines.append(f"{customer_ids[n]},,")
        elif spelling == 1:
            lines.append(f",C{n}@Example.com,")
        elif spelling == 2:
            lines.append(f",,98{n:08d}")
        else:
            lines.append(f",,+91 98{n:08d}")
        if n % 50 == 0:
            lines.append(f"{UNKNOWN},,")
            lines.append(",ghost@example.com,")
    return ("\n".join(lines) + "\n").encode()


def group_with_first_file(application, base, name) -> UserGroup:
    """A group built from the first file, processed in this process (committed)."""
    with transaction.atomic():
        group = services.create_group(application, {"name": name, "description": "d", "file_url": f"{base}/first.csv"},
                                      ACTOR)
    assert jobs.run_job(group.job_id) == "completed"
    return group


def replace_with_second_file(application, group, base) -> Job:
    with transaction.atomic():
        group = services.update_group(application, group.pk, {"file_url": f"{base}/second.csv"}, ACTOR)
    return group.job


def membership(group) -> set:
    return set(Membership.objects.filter(group_id=group.pk).values_list("customer_id", flat=True))


def errors(job) -> list:
    return list(JobError.objects.filter(job=job).order_by("row_number").values_list("row_number", "reference",
                                                                                    "message"))


def listed(application, group_id) -> tuple[set, int]:
    group = UserGroup.objects.select_related("job").get(pk=group_id)
    customers, total = selectors.group_members(application, group, PageRequest(1, 100))
    return {c.id for c in customers}, total


def test_a_worker_processes_a_group_file(world, tmp_path, monkeypatch):
    application, customer_ids = world
    queue, log = workers.private_queue(monkeypatch), tmp_path / "worker.log"
    worker = workers.start_worker(workers.worker_env(settings.MEDIA_ROOT, FILE_URL_ALLOWED_HOSTS="localhost"), queue,
                                  log)
    try:
        with serve_files({"/first.csv": first_file(customer_ids)}) as base:
            with transaction.atomic():
                group = services.create_group(application, {"name": "VIP", "description": "d",
                                                            "file_url": f"{base}/first.csv"}, ACTOR)
            workers.wait_for(lambda: Job.objects.get(pk=group.job_id).status not in Job.ACTIVE, "the worker", log)
    finally:
        workers.stop(worker, signal.SIGTERM)
    group = UserGroup.objects.select_related("job").get(pk=group.pk)
    assert (selectors.effective_status(group), group.job.status, group.job.attempts) == ("active", "completed", 1)
    assert membership(group) == set(customer_ids[:100])
    assert GroupMemberCount.objects.get(group=group).members == 100


def _backend_waiting_on(table: str) -> int | None:
    """The pid of a backend of the test database blocked on a lock while writing ``table``."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock' AND query ILIKE %s", [f"%{table}%"])
        row = cursor.fetchone()
    return row[0] if row else None


def _backend_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is not None


def test_a_killed_worker_resumes_to_the_state_of_one_clean_run(world, tmp_path, monkeypatch):
    application, customer_ids = world
    files = {"/first.csv": first_file(customer_ids), "/second.csv": second_file(customer_ids)}
    with serve_files(files) as base:
        killed_group = group_with_first_file(application, base, "killed")
        clean_group = group_with_first_file(application, base, "clean")
        queue, log = workers.private_queue(monkeypatch), tmp_path / "worker.log"
        env = workers.worker_env(settings.MEDIA_ROOT, FILE_URL_ALLOWED_HOSTS="localhost")
        # Hold the group's member-count row: the membership triggers wait for it, so the worker stops
        # in the middle of its transaction, after COPY, resolution, error rows and membership writes.
        blocker = psycopg.connect(urlsplit(settings.DATABASE_URL)._replace(
            path="/" + connection.settings_dict["NAME"]).geturl())
        blocker.execute("SELECT FROM customer_groups_groupmembercount WHERE group_id = %s FOR UPDATE",
                        [killed_group.pk])
        first = workers.start_worker(env, queue, log)
        try:
            job = replace_with_second_file(application, killed_group, base)
            workers.wait_for(lambda: _backend_waiting_on("customer_groups_membership"), "the worker mid-file", log)
            stuck = _backend_waiting_on("customer_groups_membership")
            # Meanwhile the group serves its previous membership, and says it is processing.
            assert listed(application, killed_group.pk) == (set(customer_ids[:100]), 100)
            assert selectors.effective_status(UserGroup.objects.select_related("job").get(pk=killed_group.pk)) == \
                "processing"
        finally:
            workers.stop(first)  # SIGKILL: no cleanup, the transaction is left open
            blocker.rollback()
            blocker.close()
        # The dead worker's backend finds its client gone at the next statement and rolls back.
        workers.wait_for(lambda: not _backend_alive(stuck), "the killed worker's transaction to end", log)

    # Nothing of the killed run survived; its input was stored before (the file server is gone now).
    killed = Job.objects.get(pk=job.pk)
    assert (killed.status, killed.processed, killed.error_count, killed.checkpoint) == ("processing", 0, 0, None)
    assert membership(killed_group) == set(customer_ids[:100])
    assert GroupMemberCount.objects.get(group=killed_group).members == 100
    assert not JobError.objects.filter(job=killed).exists()

    workers.resume_in_new_worker(job.pk, env, queue, log)  # beat's resume_stale_jobs, then a new worker

    # One clean run of the same change, in this process, for comparison.
    with serve_files(files) as base:
        clean_job = replace_with_second_file(application, clean_group, base)
        jobs.run_job(clean_job.pk)
    clean_job.refresh_from_db()
    done = Job.objects.get(pk=job.pk)
    assert (done.status, done.attempts, done.total, done.processed, done.success_count, done.error_count) == (
        "completed_with_errors", 2, 260, 260, 250, 10)
    assert (clean_job.status, clean_job.total, clean_job.success_count, clean_job.error_count) == (
        "completed_with_errors", 260, 250, 10)
    assert membership(killed_group) == membership(clean_group) == set(customer_ids[50:])
    assert GroupMemberCount.objects.get(group=killed_group).members == 250
    assert errors(done) == errors(clean_job) and len(errors(done)) == 10
    customers, total = selectors.group_members(
        application, UserGroup.objects.select_related("job").get(pk=killed_group.pk), PageRequest(1, 10))
    assert total == 250 and [c.id for c in customers] == customer_ids[:289:-1]
    assert selectors.effective_status(UserGroup.objects.select_related("job").get(pk=killed_group.pk)) == "active"
