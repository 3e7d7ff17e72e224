"""Jobs and requests through real infrastructure blips (docs/jobs.md, "Database and Redis blips"): a PostgreSQL
of the tests' own is restarted under a running import, a group file job (frozen mid-COPY) and a bulk
attribute update, a Redis of their own under a job and while a job is queued, and PostgreSQL again under HTTP
load on a real web server. Real Celery workers (and beat) run the jobs. Each job completes, in the state of
one clean run of the same input; every request answers 200 or 503 with Retry-After, and every acknowledged
create is there exactly once.

The servers are tests/pg_restart.py's, made once for the module: the suite's own are never stopped."""

import csv
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from attributes import bulk
from attributes import services as attribute_services
from attributes.models import UserAttribute
from config import celery_app
from core import jobs
from core.actors import Actor
from core.jobs import runner
from core.jobs.models import Job, JobError
from core.tenancy import services as core_services
from groups import services as group_services
from groups.models import Membership
from tests import gunicorn, job_handlers, pg_restart, workers
from tests.helpers import COMPANY_ID, platform_path
from users.models import AuditEvent, Customer, CustomerEmail, CustomerPhone
from users.transfers import imports

ACTOR = Actor("api_client", "client-1", "ops client")
ROOT = Path(__file__).resolve().parents[2]

assert job_handlers  # test_rows, registered here; the workers load it through JOB_HANDLER_MODULES


@pytest.fixture(scope="module")
def servers(django_db_blocker):
    """The tests' own PostgreSQL (schema migrated) and Redis, for the module."""
    with django_db_blocker.unblock():
        postgres, redis_server = pg_restart.make_servers()
    try:
        yield postgres, redis_server
    finally:
        redis_server.destroy()
        postgres.destroy()
        import shutil

        shutil.rmtree(postgres.directory.parent, ignore_errors=True)


class Blips:
    """One test's view of the dedicated servers: this process on them, workers and beat to start."""

    def __init__(self, postgres, redis_server, media, tmp_path, queue):
        self.postgres, self.redis, self.media, self.tmp_path, self.queue = postgres, redis_server, media, tmp_path, queue
        self.processes = []
        self.log = tmp_path / "celery.log"

    def env(self, **extra) -> dict:
        env = workers.worker_env(self.media, JOB_HANDLER_MODULES="tests.job_handlers", JOB_RETRY_DELAY_SECONDS=1,
                                 **extra)
        env.update(pg_restart.service_env(self.postgres, self.redis, self.tmp_path / "var"))
        return env

    def start(self, kind: str = "worker", **extra):
        process = pg_restart.start_celery(kind, self.env(**extra), self.queue, self.log)
        self.processes.append(process)
        return process

    def finish(self, job_id: str, timeout: float = 120) -> Job:
        try:
            return pg_restart.eventually(
                lambda: (job := Job.objects.get(pk=job_id)).status not in Job.ACTIVE and job, f"job {job_id} to end",
                timeout=timeout, pause=0.2)
        except AssertionError as timed_out:
            for process in self.processes:  # a Celery process logs every thread's stack on SIGUSR1
                if process.poll() is None:
                    os.kill(process.pid, signal.SIGUSR1)
            time.sleep(1)
            raise AssertionError(f"{timed_out}\n{self.log.read_text()[-8000:]}") from None

    def stop_all(self):
        for process in reversed(self.processes):
            workers.stop(process, signal.SIGTERM)


@pytest.fixture
def blips(servers, django_db_blocker, media, tmp_path, monkeypatch):
    postgres, redis_server = servers
    queue = workers.private_queue(monkeypatch)
    with django_db_blocker.unblock(), pg_restart.use_database(postgres), pg_restart.use_broker(redis_server):
        ours = Blips(postgres, redis_server, media, tmp_path, queue)
        try:
            yield ours
        finally:
            ours.stop_all()
            if not postgres.running():
                postgres.start()
            if redis_server.process is None:
                redis_server.start()


def new_application(name: str):
    application, _ = core_services.create_application(company_id=COMPANY_ID, name=name)
    return application


def job_state(job: Job) -> tuple:
    return job.status, job.total, job.processed, job.success_count, job.error_count, job.error


def error_rows(job: Job) -> list:
    return list(JobError.objects.filter(job=job).order_by("row_number", "id").values_list("row_number", "message"))


def customer_file(rows: int) -> bytes:
    """Customers to import; every 97th row has a bad email (an error row), every 50th updates an earlier row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["phone_number", "email", "first_name"])
    for n in range(1, rows + 1):
        if n % 97 == 0:
            writer.writerow([f"9{n:09d}", "not-an-email", f"Bad {n}"])
        elif n % 50 == 0:
            writer.writerow([f"9{n - 1:09d}", f"c{n - 1}@example.com", f"Renamed {n}"])
        else:
            writer.writerow([f"9{n:09d}", f"c{n}@example.com", f"Customer {n}"])
    return out.getvalue().encode()


def customers_of(application) -> dict:
    """What an import leaves, without ids: customers by phone with their email and name, and the row counts."""
    people = {}
    for customer in Customer.objects.filter(application=application).prefetch_related("emails", "phones"):
        [phone] = [p.e164 for p in customer.phones.all()]
        people[phone] = (sorted(e.email for e in customer.emails.all()), customer.first_name)
    counts = tuple(model.objects.filter(application_id=application.pk).count()
                   for model in (Customer, CustomerEmail, CustomerPhone, AuditEvent))
    return {"people": people, "counts": counts}


def seeded(name: str, rows: int):
    """An application with ``rows`` customers, imported here (no worker)."""
    application = new_application(name)
    job = imports.start_import_of_file(application, ACTOR, io.BytesIO(customer_file(rows)), "seed.csv",
                                       enqueue=False)
    assert jobs.run_job(job.pk) in ("completed", "completed_with_errors")
    return application


def assert_resumed(job: Job, log: Path) -> None:
    """The job met the blip (a connection failure, a second attempt), not a quiet gap."""
    assert job.attempts >= 2, log.read_text()[-4000:]
    assert "lost its connection to" in log.read_text()


# --------------------------------------------------------------------------- the runner's rules (no restart)

def rows_job(application, **payload) -> Job:
    return jobs.create_job(application, "test_rows", ACTOR, payload={"rows": 30, "chunk_size": 5, **payload},
                           enqueue=False)


@pytest.mark.django_db(transaction=True)
def test_a_connection_failure_puts_the_job_back_and_the_next_run_goes_on_from_the_checkpoint(application, settings):
    settings.JOB_RETRY_DELAY_SECONDS = 3
    job = rows_job(application, blip_at=17)
    requeued = []
    assert runner.run(job.pk, requeue=lambda job_id, delay: requeued.append((job_id, delay))) == "pending"
    back = Job.objects.get(pk=job.pk)
    assert requeued == [(job.pk, 3)]  # JOB_RETRY_DELAY_SECONDS, doubling with each attempt
    assert (back.status, back.lease, back.attempts, back.error, back.checkpoint) == ("pending", "", 1, "", {"next": 16})
    assert back.heartbeat_at > timezone.now()  # when its delayed message is due
    assert runner.run(job.pk) == "completed_with_errors"
    clean = rows_job(application)
    runner.run(clean.pk)
    resumed, clean = Job.objects.get(pk=job.pk), Job.objects.get(pk=clean.pk)
    assert job_state(resumed) == job_state(clean) and resumed.attempts == 2
    assert error_rows(resumed) == error_rows(clean)
    assert runner.retry_delay(2) == 6 and runner.retry_delay(30) == 300


@pytest.mark.django_db(transaction=True)
def test_without_a_requeue_the_run_waits_and_goes_on_here(application, settings):
    settings.JOB_RETRY_DELAY_SECONDS = 0.01
    job = rows_job(application, blip_at=3, blip_runs=2)
    assert runner.run(job.pk) == "completed_with_errors"  # what a command's run does
    assert Job.objects.get(pk=job.pk).attempts == 3


@pytest.mark.django_db(transaction=True)
def test_after_max_attempts_a_connection_failure_fails_the_job_with_a_clear_error(application, settings):
    settings.JOB_MAX_ATTEMPTS, settings.JOB_RETRY_DELAY_SECONDS = 2, 0.01
    job = rows_job(application, blip_at=12, blip_runs=5)
    assert runner.run(job.pk) == "failed"
    failed = Job.objects.get(pk=job.pk)
    assert failed.attempts == 2 and failed.processed == 10  # the chunks before the failure stay applied
    assert failed.error.startswith("gave up after 2 attempts: the connection to the database (OperationalError) "
                                   "was lost during the last one")


@pytest.mark.django_db(transaction=True)
def test_a_failure_of_the_input_or_a_bug_still_fails_at_once(application):
    assert runner.run(rows_job(application, fail_at=8).pk) == "failed"
    assert runner.run(rows_job(application, crash_at=8).pk) == "failed"


@pytest.mark.django_db(transaction=True)
def test_what_counts_as_a_connection_failure(db):
    import psycopg
    import redis
    from django.db import DataError, IntegrityError, OperationalError, ProgrammingError
    from kombu.exceptions import OperationalError as BrokerDown

    def wrapped(outer, inner):
        try:
            try:
                raise inner
            except Exception as exc:
                raise outer from exc
        except Exception as exc:
            return exc

    from botocore.exceptions import ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

    for lost in (OperationalError("gone"), psycopg.OperationalError("gone"), psycopg.InterfaceError("closed"),
                 redis.ConnectionError("refused"), redis.TimeoutError("slow"), BrokerDown("down"),
                 EndpointConnectionError(endpoint_url="http://store"), ReadTimeoutError(endpoint_url="http://store"),
                 ConnectionClosedError(endpoint_url="http://store"),
                 wrapped(ValueError("a wrapper"), psycopg.OperationalError("gone"))):
        assert runner.is_connection_failure(lost), lost
    with connection.cursor() as cursor:  # the job's connection, open and working
        cursor.execute("SELECT 1")
    for own in (IntegrityError("duplicate"), DataError("bad value"), ValueError("a bug"),
                ProgrammingError("syntax error")):
        assert not runner.is_connection_failure(own), own
    # A COPY broken by a restart leaves an unusable connection: psycopg's ProgrammingError is a blip then
    connection.connection.close()
    assert runner.is_connection_failure(psycopg.ProgrammingError("COPY cannot be mixed with other operations"))
    connection.close()


@pytest.mark.django_db(transaction=True)
def test_the_job_record_write_waits_for_the_database_then_leaves_the_job_to_the_sweep(settings):
    from django.db import OperationalError

    settings.JOB_STALE_SECONDS = 2
    tries = []

    def back_on_the_third_try():
        tries.append(time.monotonic())
        if len(tries) < 3:
            raise OperationalError("connection refused")
        return 1

    assert runner._when_reachable(back_on_the_third_try, "a test") == 1 and len(tries) == 3
    assert tries[2] - tries[0] >= 1.4  # 0.5 s, then 1 s

    def never():
        raise OperationalError("connection refused")

    # past JOB_STALE_SECONDS: the job stays processing, its heartbeat stopped, for resume_stale_jobs
    assert runner._when_reachable(never, "a test") is None
    with pytest.raises(ValueError):  # anything else is not waited for
        runner._when_reachable(lambda: int("x"), "a test")


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_message_cannot_be_sent_is_sent_by_the_next_sweep(application, monkeypatch):
    from kombu.exceptions import OperationalError as BrokerDown

    task = celery_app.tasks["core.jobs.tasks.run_job"]

    def broker_down(*args, **kwargs):
        raise BrokerDown("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(task, "delay", broker_down)
    job = jobs.create_job(application, "test_rows", ACTOR, payload={"rows": 1})  # autocommit: sent at once
    assert Job.objects.get(pk=job.pk).heartbeat_at is None  # unsent
    sent = []
    monkeypatch.setattr(task, "delay", sent.append)
    assert jobs.resume_stale_jobs() == [job.pk] and sent == [job.pk]  # at once, not JOB_STALE_SECONDS later
    sent_again = Job.objects.get(pk=job.pk)
    assert sent_again.status == "pending" and sent_again.heartbeat_at is not None
    assert jobs.resume_stale_jobs() == []


# --------------------------------------------------------------------------- PostgreSQL restarted under jobs

def test_an_import_survives_a_postgres_restart_and_ends_as_one_clean_run(blips):
    content = customer_file(20_000)
    blips.start(CUSTOMER_IMPORT_CHUNK_SIZE=500)
    restarted, clean_app = new_application("Restarted"), new_application("Clean")
    job = imports.start_import_of_file(restarted, ACTOR, io.BytesIO(content), "customers.csv")  # sent at commit

    pg_restart.eventually(lambda: Job.objects.get(pk=job.pk).processed >= 4000, "4,000 rows done", blips.log)
    before = Job.objects.get(pk=job.pk)
    assert before.status == "processing" and before.processed < 20_000, "the import ended before the restart"
    blips.postgres.restart(down_seconds=2.5)  # the reported failure: a 2.5 s restart mid-import

    resumed = blips.finish(job.pk)
    assert_resumed(resumed, blips.log)
    clean = imports.start_import_of_file(clean_app, ACTOR, io.BytesIO(content), "customers.csv")
    clean = blips.finish(clean.pk)
    assert clean.attempts == 1
    assert job_state(resumed) == job_state(clean)
    assert resumed.status == "completed_with_errors" and resumed.processed == 20_000
    assert error_rows(resumed) == error_rows(clean) != []
    restarted_customers, clean_customers = customers_of(restarted), customers_of(clean_app)
    assert restarted_customers == clean_customers  # no row lost, none doubled
    assert len(restarted_customers["people"]) > 19_000


def group_file(application, copies: int) -> bytes:
    """Every customer's email ``copies`` times, and one unknown email: a long COPY, one error row."""
    emails = list(CustomerEmail.objects.filter(application_id=application.pk).values_list("email", flat=True))
    lines = ["email"] + emails * copies + ["nobody@example.com"]
    return ("\n".join(lines) + "\n").encode()


def copy_running() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'COPY group_rows%%'")
        return cursor.fetchone()[0] > 0


def test_a_group_file_job_survives_a_restart_mid_copy(blips):
    application = seeded("Groups", 3000)
    content = group_file(application, copies=40)  # ~116,000 rows
    worker = blips.start()
    group = group_services.create_group(application, {"name": "Restarted", "description": "d", "type": "bulk"},
                                        ACTOR, uploaded=io.BytesIO(content))
    # The worker is frozen while it streams the COPY, PostgreSQL restarts, and the worker goes on writing
    # into the connection of a server that is gone.
    pg_restart.eventually(copy_running, "the group's COPY", blips.log, timeout=60, pause=0.005)
    pg_restart.freeze(worker)
    try:
        blips.postgres.restart(down_seconds=1)
    finally:
        pg_restart.thaw(worker)
    resumed = blips.finish(group.job_id)
    assert_resumed(resumed, blips.log)
    people = CustomerEmail.objects.filter(application_id=application.pk).count()

    clean_group = group_services.create_group(application, {"name": "Clean", "description": "d", "type": "bulk"},
                                              ACTOR, uploaded=io.BytesIO(content))
    clean = blips.finish(clean_group.job_id)
    rows = people * 40 + 1
    assert job_state(resumed) == job_state(clean) == ("completed_with_errors", rows, rows, rows - 1, 1, "")
    assert error_rows(resumed) == error_rows(clean)

    def members(group) -> set:
        return set(Membership.objects.filter(group_id=group.pk).values_list("customer_id", flat=True))

    assert members(group) == members(clean_group) and len(members(group)) == people


def test_a_bulk_attribute_update_survives_a_postgres_crash(blips):
    application = seeded("Attributes", 3000)
    restarted = attribute_services.create_definition(application, {"name": "Points", "type": "number"}, ACTOR)
    clean_definition = attribute_services.create_definition(application, {"name": "Clean", "type": "number"}, ACTOR)
    customers = list(Customer.objects.filter(application=application).order_by("id").values_list("id", flat=True))
    people = len(customers)
    customers.insert(1500, "0123456789abcdef01234567")  # an unknown id: one error row
    blips.start(ATTRIBUTE_BULK_CHUNK_SIZE=100)

    def start(slug):
        payload = bulk.same_payload(application, {"users": customers, "attribute": [{"key": slug, "value": 7}]})
        return jobs.create_job(application, bulk.KIND, ACTOR, payload=jobs.payload_dict(payload),
                               total=len(customers))

    job = start("points")
    pg_restart.eventually(lambda: Job.objects.get(pk=job.pk).processed >= 600, "600 customers done", blips.log)
    blips.postgres.restart(down_seconds=2, mode="immediate")  # a crash: recovery at the start
    resumed = blips.finish(job.pk)
    assert_resumed(resumed, blips.log)
    clean = blips.finish(start("clean").pk)
    assert job_state(resumed) == job_state(clean) == ("completed_with_errors", people + 1, people + 1, people, 1, "")
    assert error_rows(resumed) == error_rows(clean)
    for definition in (restarted, clean_definition):  # each customer's value written once
        values = UserAttribute.objects.filter(definition=definition)
        assert values.count() == people and set(values.values_list("value", flat=True)) == {7}

    def events(job):  # the audit events the job wrote (its actor's request id), by action
        written = AuditEvent.objects.filter(application_id=application.pk, request_id=f"job-{job.pk}")
        return sorted(written.values_list("action", flat=True))

    assert events(resumed) == events(clean) and len(events(resumed)) >= people


# --------------------------------------------------------------------------- Redis restarted

def test_a_job_goes_on_through_a_redis_restart_and_the_worker_takes_the_next_one(blips):
    application = new_application("Redis restart")
    blips.start()
    job = jobs.create_job(application, "test_rows", ACTOR, payload={"rows": 120, "chunk_size": 5, "sleep": 0.05})
    pg_restart.eventually(lambda: Job.objects.get(pk=job.pk).processed >= 20, "20 rows done", blips.log)
    blips.redis.stop()
    time.sleep(2)
    blips.redis.start()
    done = blips.finish(job.pk)
    clean = jobs.create_job(application, "test_rows", ACTOR, payload={"rows": 120, "chunk_size": 5}, enqueue=False)
    assert jobs.run_job(clean.pk) == "completed_with_errors"
    assert job_state(done) == job_state(Job.objects.get(pk=clean.pk)) == ("completed_with_errors", 120, 120, 103, 17, "")
    assert error_rows(done) == error_rows(clean)
    # the worker is back on the broker: the next job runs
    after = jobs.create_job(application, "test_rows", ACTOR, payload={"rows": 3})
    assert blips.finish(after.pk, timeout=60).status == "completed"


def test_a_job_queued_while_redis_is_down_starts_within_seconds_of_its_return(blips):
    application = new_application("Queued while down")
    blips.start(JOB_RESUME_INTERVAL_SECONDS=1)
    blips.start("beat", JOB_RESUME_INTERVAL_SECONDS=1)
    warm = jobs.create_job(application, "test_rows", ACTOR, payload={"rows": 2})
    assert blips.finish(warm.pk, timeout=60).status == "completed"

    blips.redis.stop()
    job = jobs.create_job(application, "test_rows", ACTOR, payload={"rows": 2})  # the send fails after commit
    queued = Job.objects.get(pk=job.pk)
    assert (queued.status, queued.heartbeat_at) == ("pending", None)  # marked unsent
    time.sleep(2)
    blips.redis.start()
    back = time.monotonic()
    done = blips.finish(job.pk, timeout=60)
    waited = time.monotonic() - back
    assert done.status == "completed"
    assert waited < 15, f"started {waited:.1f} s after Redis was back"


# --------------------------------------------------------------------------- HTTP load through a restart

def test_requests_during_a_postgres_restart_answer_503_never_500_and_lose_no_create(blips):
    application = new_application("Under load")
    client, _secret = core_services.create_api_client(company_id=COMPANY_ID, name="load")
    token = core_services.issue_token(client).access_token
    port = gunicorn.free_port()
    log = blips.tmp_path / "web.log"
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--timeout", "30"],
        cwd=ROOT, env=pg_restart.service_env(blips.postgres, blips.redis, blips.tmp_path / "var"),
        stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)
    blips.processes.append(web)
    base = f"http://127.0.0.1:{port}" + platform_path(COMPANY_ID, application.pk, "customers")

    def post(phone: str):
        request = urllib.request.Request(base, data=json.dumps({"phone_number": phone}).encode(), method="POST",
                                         headers={"Authorization": f"Bearer {token}",
                                                  "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    pg_restart.eventually(lambda: _answers(post, "9990000000"), "the web server", log, timeout=60, pause=0.2)
    answers, stop = [], threading.Event()

    def load(thread: int):
        n = 0
        while not stop.is_set():
            n += 1
            phone = f"98{thread:02d}{n:06d}"
            answers.append((phone, *post(phone)))

    threads = [threading.Thread(target=load, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(2)
        blips.postgres.restart(down_seconds=2.5)
        time.sleep(3)
    finally:
        stop.set()
        for thread in threads:
            thread.join()

    statuses = {}
    for _phone, status, _headers, _body in answers:
        statuses[status] = statuses.get(status, 0) + 1
    assert set(statuses) <= {200, 503}, (statuses, [a for a in answers if a[1] not in (200, 503)][:3])
    assert statuses.get(503, 0) > 0 and statuses.get(200, 0) > 0, statuses
    for _phone, status, headers, body in answers:
        if status == 503:
            assert headers.get("Retry-After") == "5" and json.loads(body)["code"] == "service_unavailable"
    acknowledged = {phone for phone, status, *_ in answers if status == 200}
    connection.close()  # this process's connection did not survive the restart either
    stored = list(CustomerPhone.objects.filter(application_id=application.pk).values_list("e164", flat=True))
    national = [phone[-10:] for phone in stored]
    assert len(national) == len(set(national)), "a create was applied twice"
    assert acknowledged <= set(national), "an acknowledged create is missing"
    assert set(national) <= {phone for phone, *_ in answers} | {"9990000000"}
    assert "Traceback" not in log.read_text()


def _answers(post, phone: str) -> bool:
    try:
        return post(phone)[0] == 200
    except OSError:
        return False
