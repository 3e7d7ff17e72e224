"""Background jobs: the runner (chunks, errors, counters, checkpoints, failures, leases), resuming stale
jobs, getUsersJobByJobId, the admin pages, and a real Celery worker killed in the middle of a job."""

import csv
import io
import json
import re
import subprocess
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.test import override_settings
from django.utils import timezone

from config import celery_app
from core import jobs
from core.jobs import tasks as core_tasks  # noqa: F401  registers the tasks with celery_app
from core.tenancy import services as core_services
from core.actors import Actor
from core.tenancy.models import SCOPE_CUSTOMERS_WRITE, Application
from core.jobs.models import Job, JobError
from tests import job_handlers, workers
from tests.helpers import APP_ID, COMPANY_ID, platform_path
from tests.helpers import assert_error

ACTOR = Actor("api_client", "client-1", "ops client")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def make_job(application, kind="test_rows", **payload) -> Job:
    return jobs.create_job(application, kind, ACTOR, payload=payload, file_name="rows.csv", file_format="csv",
                           enqueue=False)


def row_applications(job) -> set:
    return set(Application.objects.filter(id__startswith=job.pk[:16]).values_list("id", flat=True))


def expected_applications(job, rows) -> set:
    return {job_handlers.row_application_id(job, n) for n in rows if n % 7}


def error_rows(job) -> list:
    return list(JobError.objects.filter(job=job).order_by("row_number", "id")
                .values_list("row_number", "reference", "message"))


def read_stored_csv(name) -> list:
    with default_storage.open(name, "rb") as handle:
        return list(csv.reader(io.StringIO(handle.read().decode())))


# --------------------------------------------------------------------------- the runner

def test_runner_applies_every_chunk_records_errors_and_counts(application):
    job = make_job(application, rows=20, chunk_size=6)
    assert (job.status, job.created_by) == ("pending", {"type": "api_client", "id": "client-1", "name": "ops client"})

    assert jobs.run_job(job.pk) == "completed_with_errors"

    job.refresh_from_db()
    assert (job.total, job.processed, job.success_count, job.error_count) == (20, 20, 18, 2)
    assert job.checkpoint == {"next": 21}
    assert (job.attempts, job.lease, job.error, job.progress) == (1, "", "", 100)
    assert job.started_at <= job.finished_at
    assert row_applications(job) == expected_applications(job, range(1, 21))
    assert error_rows(job) == [(7, "row-7", "multiple of seven"), (14, "row-14", "multiple of seven")]
    assert job.error_file == f"jobs/{application.id}/{job.pk}/errors.csv"
    assert read_stored_csv(job.error_file) == [["row", "reference", "error"], ["7", "row-7", "multiple of seven"],
                                               ["14", "row-14", "multiple of seven"]]


def test_a_job_without_errors_completes_without_an_error_file(application):
    job = make_job(application, rows=6, chunk_size=4)
    assert jobs.run_job(job.pk) == "completed"
    job.refresh_from_db()
    assert (job.processed, job.success_count, job.error_count, job.error_file) == (6, 6, 0, "")


def test_a_run_continues_at_the_checkpoint(application):
    job = make_job(application, rows=20, chunk_size=5)
    Job.objects.filter(pk=job.pk).update(checkpoint={"next": 11}, processed=10, success_count=9, error_count=1)
    jobs.run_job(job.pk)
    job.refresh_from_db()
    assert row_applications(job) == expected_applications(job, range(11, 21))  # rows 1-10 are not redone
    assert (job.processed, job.success_count, job.error_count) == (20, 18, 2)


def test_a_service_error_fails_the_job_with_its_reason_and_keeps_finished_chunks(application):
    job = make_job(application, rows=20, chunk_size=4, fail_at=10)
    assert jobs.run_job(job.pk) == "failed"
    job.refresh_from_db()
    assert job.error == "row 10 cannot be read"
    assert (job.processed, job.success_count, job.error_count, job.checkpoint) == (8, 7, 1, {"next": 9})
    assert row_applications(job) == expected_applications(job, range(1, 9))  # the failed chunk rolled back
    assert read_stored_csv(job.error_file)[1:] == [["7", "row-7", "multiple of seven"]]
    assert job.finished_at is not None and job.lease == ""


def test_a_bug_fails_the_job_without_leaking_details(application, caplog):
    job = make_job(application, rows=8, chunk_size=4, crash_at=6)
    assert jobs.run_job(job.pk) == "failed"
    job.refresh_from_db()
    assert job.error == "internal error (KeyError); the worker log has the details"
    assert job.processed == 4
    assert "a bug" in caplog.text  # the traceback is logged


def test_an_unknown_kind_fails_the_job(application):
    job = Job.objects.create(company_id=COMPANY_ID, application=application, kind="retired_kind")
    assert jobs.run_job(job.pk) == "failed"
    job.refresh_from_db()
    assert job.error == "no job handler is registered for kind 'retired_kind'"


def test_create_job_refuses_an_unknown_kind(application):
    with pytest.raises(LookupError):
        jobs.create_job(application, "no_such_kind", ACTOR)


def test_set_based_handler_and_finish(application):
    job = make_job(application, kind="test_set_based")
    assert jobs.run_job(job.pk) == "completed_with_errors"
    job.refresh_from_db()
    assert (job.total, job.processed, job.success_count, job.error_count) == (4, 4, 3, 1)
    assert read_stored_csv(job.result_file) == [["n"], ["1"], ["2"], ["3"]]
    assert read_stored_csv(job.error_file) == [["row", "reference", "error"], ["", "", "one row of the file has no id"]]


def test_only_pending_jobs_are_claimed(application):
    running = make_job(application, rows=3)
    Job.objects.filter(pk=running.pk).update(status="processing", lease="someone", heartbeat_at=timezone.now())
    assert jobs.run_job(running.pk) is None
    running.refresh_from_db()
    assert (running.status, running.lease, running.processed, running.attempts) == ("processing", "someone", 0, 0)

    done = make_job(application, rows=3)
    jobs.run_job(done.pk)
    assert jobs.run_job(done.pk) is None  # a second delivery of the task does nothing
    assert Job.objects.get(pk=done.pk).attempts == 1
    assert jobs.run_job("0" * 24) is None


def test_a_runner_that_lost_its_lease_stops_before_the_next_chunk(application):
    job = make_job(application, rows=9, chunk_size=3, takeover_after=3)
    assert jobs.run_job(job.pk) is None
    job.refresh_from_db()
    assert (job.status, job.lease, job.processed) == ("processing", "another-worker", 3)
    assert row_applications(job) == expected_applications(job, range(1, 4))


def test_cancel_stops_the_runner(application):
    job = make_job(application, rows=9, chunk_size=3, cancel_after=6)
    assert jobs.run_job(job.pk) is None
    job.refresh_from_db()
    assert (job.status, job.processed) == ("cancelled", 6)
    assert jobs.cancel_job(job) is False  # already finished


@override_settings(JOB_MAX_ATTEMPTS=3)
def test_a_job_that_keeps_killing_its_worker_is_given_up(application):
    job = make_job(application, rows=3)
    Job.objects.filter(pk=job.pk).update(attempts=3)
    assert jobs.run_job(job.pk) is None
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error == "gave up after 3 attempts: the worker stopped every time"


def test_create_job_queues_the_task_on_commit(application, django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr(celery_app.tasks["core.jobs.tasks.run_job"], "delay", sent.append)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = jobs.create_job(application, "test_rows", ACTOR, payload={"rows": 1})
    assert len(callbacks) == 1 and sent == [job.pk]


def test_resume_stale_jobs_requeues_only_abandoned_jobs(application, django_capture_on_commit_callbacks, monkeypatch):
    old = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS + 5)
    dead = make_job(application, rows=1)
    lost = make_job(application, rows=1)
    alive = make_job(application, rows=1)
    fresh = make_job(application, rows=1)
    finished = make_job(application, rows=1)
    Job.objects.filter(pk=dead.pk).update(status="processing", lease="dead-worker", heartbeat_at=old)
    Job.objects.filter(pk=lost.pk).update(heartbeat_at=old)  # pending, its message never arrived
    Job.objects.filter(pk=alive.pk).update(status="processing", lease="live-worker")
    Job.objects.filter(pk=finished.pk).update(status="completed", heartbeat_at=old)
    sent = []
    monkeypatch.setattr(celery_app.tasks["core.jobs.tasks.run_job"], "delay", sent.append)
    with django_capture_on_commit_callbacks(execute=True):
        resumed = jobs.resume_stale_jobs()
    assert set(resumed) == set(sent) == {dead.pk, lost.pk}
    dead.refresh_from_db()
    assert (dead.status, dead.lease) == ("pending", "")
    assert Job.objects.get(pk=alive.pk).lease == "live-worker"
    assert {Job.objects.get(pk=j.pk).status for j in (fresh, finished)} == {"pending", "completed"}
    assert jobs.run_job(dead.pk) == "completed"


def test_tasks_are_registered_and_resume_is_scheduled():
    entry = settings.CELERY_BEAT_SCHEDULE["resume-stale-jobs"]
    assert entry["task"] == "core.jobs.tasks.resume_stale_jobs" and entry["schedule"] == 2.0
    assert {"core.jobs.tasks.run_job", "core.jobs.tasks.resume_stale_jobs"} <= set(celery_app.tasks)


# --------------------------------------------------------------------------- getUsersJobByJobId

def assert_bulk_action_model(body: dict) -> None:
    """Every key of the SDK's BulkActionModel with its Joi type (strings never null, numbers as numbers)."""
    for key in ("_id", "file_name", "file_format", "action_type", "application_id", "company_id", "status",
                "created_at", "updated_at"):
        assert isinstance(body[key], str), key
    assert set(body["created_by"]) >= {"name", "user_id"}
    assert all(isinstance(body["created_by"][k], str) for k in ("name", "user_id"))
    assert set(body["count"]) == {"total", "success", "error"}
    assert all(type(v) is int for v in body["count"].values())
    assert isinstance(body["links"], dict) and set(body["links"]) <= {"file", "error"}
    for link in body["links"].values():
        assert set(link) == {"absolute_url", "relative_url"} and all(isinstance(v, str) for v in link.values())
    assert ISO.match(body["created_at"]) and ISO.match(body["updated_at"])
    assert type(body["progress"]) is int and type(body["processed"]) is int and isinstance(body["error"], str)


def test_get_job_answers_the_bulk_action_model(api, url, application, client):
    job = make_job(application, rows=10, chunk_size=4)
    jobs.run_job(job.pk)
    response = api.get(url(f"users/jobs/{job.pk}"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert_bulk_action_model(body)
    assert body["_id"] == job.pk and body["application_id"] == application.id and body["company_id"] == "559"
    assert (body["file_name"], body["file_format"], body["action_type"], body["kind"]) == (
        "rows.csv", "csv", "import", "test_rows")
    assert body["created_by"] == {"name": "ops client", "user_id": "client-1", "type": "api_client"}
    assert body["count"] == {"total": 10, "success": 9, "error": 1}
    assert (body["status"], body["progress"], body["processed"], body["error"]) == (
        "completed_with_errors", 100, 10, "")
    link = body["links"]["error"]
    assert link["relative_url"] == f"jobs/{application.id}/{job.pk}/errors.csv"
    assert link["absolute_url"].startswith("http://testserver/files/")
    download = client.get(urlsplit(link["absolute_url"]).path)
    assert download.status_code == 200
    assert b"".join(download.streaming_content).decode().splitlines()[1] == "7,row-7,multiple of seven"


def test_get_job_of_a_pending_job(api, url, application):
    job = make_job(application, rows=10)
    body = api.get(url(f"users/jobs/{job.pk}")).json()
    assert_bulk_action_model(body)
    assert (body["status"], body["progress"], body["links"], body["count"]["total"]) == ("pending", 0, {}, 0)
    assert body["started_at"] == "" and body["finished_at"] == ""


def test_get_job_of_a_failed_job_names_the_reason(api, url, application):
    job = make_job(application, rows=10, chunk_size=4, fail_at=2)
    jobs.run_job(job.pk)
    body = api.get(url(f"users/jobs/{job.pk}")).json()
    assert_bulk_action_model(body)
    assert (body["status"], body["error"]) == ("failed", "row 2 cannot be read")


JOI_CHECK = """
const M = require("@gofynd/fdk-client-javascript/sdk/platform/User/UserPlatformModel.js");
const bodies = JSON.parse(require("fs").readFileSync(0, "utf8"));
const errors = bodies.map((b) => M.BulkActionModel().validate(b, { abortEarly: false, allowUnknown: true }).error)
  .filter(Boolean).map((e) => e.message);
if (errors.length) { console.error(errors.join("\\n")); process.exit(1); }
"""


def test_get_job_passes_the_sdks_own_response_check(api, url, application):
    """The SDK validates getUsersJobByJobId's answer with this Joi schema (strictResponseCheck)."""
    from tests.sdk.runner import SDK_DIR, _node

    pending = make_job(application, rows=3)
    done = make_job(application, rows=10, chunk_size=4)
    failed = make_job(application, rows=10, chunk_size=4, fail_at=9)
    for job in (done, failed):
        jobs.run_job(job.pk)
    bodies = [api.get(url(f"users/jobs/{job.pk}")).json() for job in (pending, done, failed)]
    assert "error" in bodies[1]["links"] and "error" in bodies[2]["links"]
    result = subprocess.run([_node(), "-e", JOI_CHECK], cwd=SDK_DIR, input=json.dumps(bodies), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_get_job_of_another_application_is_not_found(api, url, application, other_application, foreign_application):
    for app in (other_application, foreign_application):
        job = make_job(app, rows=1)
        assert_error(api.get(url(f"users/jobs/{job.pk}")), 404, "no job", code="job_not_found")
    assert_error(api.get(url(f"users/jobs/{'a' * 24}")), 404, code="job_not_found")
    assert_error(api.get(url("users/jobs/not-an-id")), 404)


def test_get_job_needs_a_token_and_the_read_scope(make_client, url, application, client):
    job = make_job(application, rows=1)
    path = url(f"users/jobs/{job.pk}")
    assert_error(client.get(path), 401)
    assert_error(make_client(scopes=[SCOPE_CUSTOMERS_WRITE]).get(path), 403, "application/customers/read")
    assert_error(make_client(company_id=777).get(path), 403)


def test_openapi_lists_get_users_job(client, db):
    paths = client.get("/openapi.json").json()["paths"]
    path = platform_path("{company_id}", "{application_id}", "users/jobs/{job_id}")
    assert paths[path]["get"]["operationId"] == "getUsersJobByJobId"


# --------------------------------------------------------------------------- admin

def test_admin_lists_the_company_jobs_read_only(staff_client, application, foreign_application):
    own = make_job(application, rows=10, chunk_size=4)
    jobs.run_job(own.pk)
    foreign = make_job(foreign_application, rows=1)
    listing = staff_client.get("/admin/core/job/")
    assert listing.status_code == 200
    assert {j.pk for j in listing.context["cl"].result_list} == {own.pk}
    assert "100 %" in listing.content.decode() and "ops client (api_client)" in listing.content.decode()

    page = staff_client.get(f"/admin/core/job/{own.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "row-7" in html and "multiple of seven" in html
    link = re.search(r'href="(/files/[^"]+)">error file<', html).group(1)
    assert staff_client.get(link).status_code == 200
    assert staff_client.get("/admin/core/job/add/").status_code == 403
    assert staff_client.get(f"/admin/core/job/{foreign.pk}/change/").status_code == 302  # "doesn't exist"


def test_admin_cancels_the_selected_active_jobs_of_the_company(staff_client, application, foreign_application):
    pending = make_job(application, rows=3)
    done = make_job(application, rows=1)
    jobs.run_job(done.pk)
    foreign = make_job(foreign_application, rows=1)
    response = staff_client.post("/admin/core/job/", {
        "action": "cancel_jobs", "_selected_action": [pending.pk, done.pk, foreign.pk]}, follow=True)
    assert response.status_code == 200 and "1 job(s) cancelled" in response.content.decode()
    statuses = dict(Job.objects.values_list("pk", "status"))
    assert statuses == {pending.pk: "cancelled", done.pk: "completed", foreign.pk: "pending"}
    assert jobs.run_job(pending.pk) is None  # a cancelled job is never claimed


# --------------------------------------------------------------------------- a real worker, killed

@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_resumes_to_the_state_of_one_clean_run(media, tmp_path, monkeypatch):
    application, _ = core_services.create_application(company_id=COMPANY_ID, name="Demo Store", application_id=APP_ID)
    payload = {"rows": 60, "chunk_size": 3}
    job = make_job(application, **payload, sleep=0.15)
    queue, log = workers.private_queue(monkeypatch), tmp_path / "worker.log"
    env = workers.worker_env(media, JOB_HANDLER_MODULES="tests.job_handlers")

    # no warm shutdown: the process dies mid-chunk, its transaction with it
    workers.kill_midway(job.pk, env, queue, log, when=lambda j: j.processed >= 15, what="15 rows done")

    killed = Job.objects.get(pk=job.pk)
    assert killed.status == "processing" and 15 <= killed.processed < 60
    # What was committed is exactly whole chunks: applications, errors, counters and checkpoint agree.
    assert killed.processed % 3 == 0 and killed.checkpoint == {"next": killed.processed + 1}
    assert row_applications(job) == expected_applications(job, range(1, killed.processed + 1))
    assert JobError.objects.filter(job=job).count() == killed.error_count

    # Beat's resume_stale_jobs finds the job once its heartbeat is stale and a new worker finishes it.
    workers.resume_in_new_worker(job.pk, env, queue, log)

    clean = make_job(application, **payload)
    assert jobs.run_job(clean.pk) == "completed_with_errors"
    resumed, clean = Job.objects.get(pk=job.pk), Job.objects.get(pk=clean.pk)

    def state(j):
        return (j.status, j.total, j.processed, j.success_count, j.error_count, j.checkpoint, j.error)

    assert state(resumed) == state(clean) == ("completed_with_errors", 60, 60, 52, 8, {"next": 61}, "")
    assert resumed.attempts == 2
    assert row_applications(job) == expected_applications(job, range(1, 61))  # each row applied exactly once
    assert error_rows(job) == error_rows(clean)
    assert read_stored_csv(resumed.error_file) == read_stored_csv(clean.error_file)
