"""Bulk attribute updates: bulk_update (same attributes for many customers, ids or a CSV file) and
bulk_update/per_user; synchronous below ATTRIBUTE_BULK_SYNC_LIMIT, a job on a worker above it."""

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from attributes import bulk, services
from attributes.models import UserAttribute, UserAttributeValue
from attributes.selectors import value_of
from config import celery_app
from core import jobs
from core.actors import Actor
from core.jobs import tasks as core_tasks  # noqa: F401  registers run_job with celery_app
from core.jobs.models import Job, JobError
from core.tenancy import services as core_services
from core.tenancy.models import SCOPE_CUSTOMERS_READ
from tests import workers
from tests.file_server import serve_files
from tests.helpers import APP_ID, COMPANY_ID, assert_error
from users.models import AuditEvent, Customer
from users.services import create_customer

ACTOR = Actor.system("tests")


@pytest.fixture
def defs(application):
    def make(name, type_, **extra):
        return services.create_definition(application, {"name": name, "type": type_, **extra}, ACTOR)
    return {"tier": make("Tier", "string", validations=[{"type": "enum", "value": ["gold", "silver"]}]),
            "points": make("Points", "number", validations=[{"type": "min", "value": 0}]),
            "pin": make("Pin", "string", encrypted=True)}


@pytest.fixture
def people(create_customer):
    return [create_customer(first_name=f"p{n}")["_id"] for n in range(6)]


def values(application, definition, customer_ids):
    found = {a.customer_id: value_of(a) for a in UserAttribute.objects.filter(definition=definition,
                                                                                  customer_id__in=customer_ids)}
    return [found.get(c) for c in customer_ids]


# --------------------------------------------------------------------------- synchronous


def test_same_attributes_for_listed_customers(api, url, application, defs, people):
    body = {"users": people[:3], "attribute": [{"key": "tier", "value": "gold"}, {"key": "POINTS", "value": 10},
                                               {"key": "pin", "value": "1234"}]}
    response = api.put(url("user_attribute/bulk_update"), body, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"success": True, "total": 3, "processed": 3, "errors_count": 0, "errors": [],
                               "processing_type": "synchronous", "error_summary": {}}
    assert values(application, defs["tier"], people) == ["gold"] * 3 + [None] * 3
    assert values(application, defs["points"], people[:3]) == [10] * 3
    assert values(application, defs["pin"], people[:3]) == ["1234"] * 3
    assert not UserAttribute.objects.filter(definition=defs["pin"], ciphertext__contains="1234").exists()
    assert UserAttributeValue.objects.filter(definition_id=defs["points"].id, number_value=10).count() == 3


def test_unknown_and_archived_customers_are_errors_the_others_succeed(api, url, application, defs, people):
    api.put(url("customers/archive"), {"user_id": people[1]}, format="json")
    unknown = "0123456789abcdef01234567"
    body = {"users": [people[0], people[1], unknown, "not-an-id", people[0]],
            "attribute": [{"key": "tier", "value": "silver"}]}
    data = api.put(url("user_attribute/bulk_update"), body, format="json").json()
    assert (data["success"], data["total"], data["processed"], data["errors_count"]) == (False, 4, 1, 3)
    assert [e["user_id"] for e in data["errors"]] == [people[1], unknown, "not-an-id"]
    assert all(isinstance(e["error"], str) and e["error"] for e in data["errors"])
    assert sum(data["error_summary"].values()) == 3
    assert values(application, defs["tier"], people[:2]) == ["silver", None]


def test_per_user_attributes_all_or_nothing_per_customer(api, url, application, defs, people):
    body = {"user_detail_attributes": [
        {"user_id": people[0], "attributes": [{"key": "tier", "value": "gold"}, {"key": "points", "value": 5}]},
        {"user_id": people[1], "attributes": [{"key": "tier", "value": "silver"}, {"key": "points", "value": -1}]},
        {"user_id": people[2], "attributes": [{"key": "nope", "value": 1}]},
        {"user_id": people[3], "attributes": [{"key": "points", "value": 7}]},
    ]}
    data = api.put(url("user_attribute/bulk_update/per_user"), body, format="json").json()
    assert (data["total"], data["processed"], data["errors_count"], data["processing_type"]) == (4, 2, 2,
                                                                                                 "synchronous")
    errors = {e["user_id"]: e["error"] for e in data["errors"]}
    assert "points" in errors[people[1]] and "min" in errors[people[1]]
    assert "nope" in errors[people[2]]
    assert values(application, defs["tier"], people[:4]) == ["gold", None, None, None]  # people[1]: neither value
    assert values(application, defs["points"], people[:4]) == [5, None, None, 7]


@pytest.mark.parametrize("body,fragment", [
    ({"attribute": [{"key": "tier", "value": "gold"}]}, "either users"),
    ({"users": ["a"], "user_file_url": "https://example.com/u.csv", "attribute": [{"key": "tier", "value": "gold"}]},
     "either users"),
    ({"users": ["a"]}, "attribute must be a non-empty list"),
    ({"users": ["a"], "attribute": [{"key": "tier"}]}, "attribute[0].value is required"),
    ({"users": ["a"], "attribute": [{"value": 1}]}, "attribute[0].key"),
    ({"users": ["a"], "attribute": [{"key": "zzz", "value": 1}]}, "no attribute definition with slug 'zzz'"),
    ({"users": ["a"], "attribute": [{"key": "tier", "value": "bronze"}]}, "Attribute 'tier'"),
    ({"users": ["a"], "attribute": [{"key": "tier", "value": "gold"}, {"key": "Tier", "value": "gold"}]},
     "more than once"),
    ({"users": "a", "attribute": [{"key": "tier", "value": "gold"}]}, "users must be a list"),
    ({"user_file_url": "ftp://example.com/u.csv", "attribute": [{"key": "tier", "value": "gold"}]}, "user_file_url"),
    ({"user_file_url": "http://127.0.0.1/u.csv", "attribute": [{"key": "tier", "value": "gold"}]}, "user_file_url"),
    ({"user_file_url": "http://10.0.0.5/u.csv", "attribute": [{"key": "tier", "value": "gold"}]}, "private"),
])
def test_bad_bulk_requests_are_400_and_change_nothing(api, url, defs, people, body, fragment):
    response = api.put(url("user_attribute/bulk_update"), body, format="json")
    assert_error(response, 400)
    assert fragment in response.json()["message"]
    assert not UserAttribute.objects.exists() and not Job.objects.exists()


@pytest.mark.parametrize("body,fragment", [
    ([], "must be a JSON object"),
    ({}, "user_detail_attributes is required"),
    ({"user_detail_attributes": []}, "must not be empty"),
    ({"user_detail_attributes": [{"attributes": [{"key": "tier", "value": "gold"}]}]}, "user_id is required"),
    ({"user_detail_attributes": [{"user_id": "x", "attributes": []}]}, "attributes must be a non-empty list"),
])
def test_bad_per_user_requests_are_400(api, url, defs, body, fragment):
    response = api.put(url("user_attribute/bulk_update/per_user"), body, format="json")
    assert_error(response, 400)
    assert fragment in response.json()["message"]


def test_bulk_updates_need_the_write_scope(make_client, url, defs, people):
    reader = make_client(scopes=[SCOPE_CUSTOMERS_READ])
    body = {"users": people[:1], "attribute": [{"key": "tier", "value": "gold"}]}
    assert_error(reader.put(url("user_attribute/bulk_update"), body, format="json"), 403)
    assert_error(reader.put(url("user_attribute/bulk_update/per_user"), {"user_detail_attributes": []},
                            format="json"), 403)


def test_another_applications_customers_are_unknown(api, url, application, other_application, defs):
    services.create_definition(other_application, {"name": "Tier", "type": "string"}, ACTOR)
    stranger = create_customer(other_application, {"phone_number": "9876500099"}, ACTOR)
    body = {"users": [stranger.id], "attribute": [{"key": "tier", "value": "gold"}]}
    data = api.put(url("user_attribute/bulk_update"), body, format="json").json()
    assert data["processed"] == 0 and data["errors"][0]["user_id"] == stranger.id
    assert not UserAttribute.objects.exists() and Customer.objects.filter(id=stranger.id).exists()


# --------------------------------------------------------------------------- asynchronous (a job)


def run_job_of(response) -> Job:
    data = response.json()
    assert response.status_code == 200, data
    assert data["processing_type"] == "asynchronous" and data["success"] is True
    assert data["job"]["_id"] == data["job_id"] and data["job"]["status"] == "pending"
    jobs.run_job(data["job_id"])
    return Job.objects.get(pk=data["job_id"])


@override_settings(ATTRIBUTE_BULK_SYNC_LIMIT=2, ATTRIBUTE_BULK_CHUNK_SIZE=2)
def test_above_the_sync_limit_a_job_does_it_and_reports_through_the_jobs_api(api, url, application, defs, people):
    unknown = "0123456789abcdef01234567"
    body = {"users": [*people[:5], unknown], "attribute": [{"key": "points", "value": 3}]}
    job = run_job_of(api.put(url("user_attribute/bulk_update"), body, format="json"))
    assert (job.kind, job.status, job.total, job.processed, job.success_count, job.error_count) == (
        "attribute_bulk_update", "completed_with_errors", 6, 6, 5, 1)
    assert values(application, defs["points"], people[:5]) == [3] * 5
    assert list(JobError.objects.filter(job=job).values_list("row_number", "reference")) == [(6, unknown)]
    report = api.get(url(f"users/jobs/{job.pk}")).json()
    assert report["status"] == "completed_with_errors"
    assert report["count"] == {"total": 6, "success": 5, "error": 1}
    assert report["links"]["error"]["absolute_url"].startswith("http")
    assert report["created_by"]["name"] == "test client"
    from users.models import AuditEvent

    link = AuditEvent.objects.get(action="job.completed").data["links"]["customers"]  # the customers it set
    listed = api.get(link)
    rows = b"".join(listed.streaming_content).decode().splitlines()
    assert rows[0] == "customer_id,type,occurred_at"
    assert sorted(row.split(",")[:2] for row in rows[1:]) == sorted([p, "attribute.updated"] for p in people[:5])
    assert not AuditEvent.objects.filter(action="attribute.updated", published=True).exists()  # one summary


@override_settings(ATTRIBUTE_BULK_SYNC_LIMIT=1)
def test_per_user_above_the_limit_is_a_job_too(api, url, application, defs, people):
    body = {"user_detail_attributes": [{"user_id": p, "attributes": [{"key": "points", "value": i}]}
                                       for i, p in enumerate(people[:3])]}
    job = run_job_of(api.put(url("user_attribute/bulk_update/per_user"), body, format="json"))
    assert (job.status, job.success_count) == ("completed", 3)
    assert values(application, defs["points"], people[:3]) == [0, 1, 2]


@override_settings(FILE_URL_ALLOWED_HOSTS=["localhost"], ATTRIBUTE_BULK_CHUNK_SIZE=2)
def test_a_file_of_user_ids_runs_as_a_job(api, url, application, defs, people):
    csv = ("user_id,name\n" + "\n".join(f"{p},x" for p in people[:4]) + "\n\nnot-an-id,y\n").encode()
    with serve_files({"/users.csv": csv}) as base:
        body = {"user_file_url": f"{base}/users.csv", "attribute": [{"key": "tier", "value": "silver"}]}
        job = run_job_of(api.put(url("user_attribute/bulk_update"), body, format="json"))
    assert (job.status, job.total, job.success_count, job.error_count, job.file_name) == (
        "completed_with_errors", 5, 4, 1, "users.csv")
    assert values(application, defs["tier"], people[:5]) == ["silver"] * 4 + [None]
    assert list(JobError.objects.filter(job=job).values_list("row_number", "reference")) == [(7, "not-an-id")]


@override_settings(FILE_URL_ALLOWED_HOSTS=["localhost"])
@pytest.mark.parametrize("files,path,fragment", [
    ({"/u.csv": b"email\na@b.com\n"}, "/u.csv", "no user_id column"),
    ({}, "/missing.csv", "HTTP 404"),
    ({"/u.csv": b""}, "/u.csv", "empty"),
])
def test_a_bad_file_fails_the_job_with_the_reason(api, url, defs, files, path, fragment):
    with serve_files(files) as base:
        body = {"user_file_url": f"{base}{path}", "attribute": [{"key": "tier", "value": "gold"}]}
        job = run_job_of(api.put(url("user_attribute/bulk_update"), body, format="json"))
    assert job.status == "failed" and fragment in job.error
    assert not UserAttribute.objects.exists()
    assert fragment in api.get(url(f"users/jobs/{job.pk}")).json()["error"]


# --------------------------------------------------------------------------- a real worker, killed


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_resumes_to_the_state_of_one_clean_run(media, tmp_path, monkeypatch):
    application, _ = core_services.create_application(company_id=COMPANY_ID, name="Demo", application_id=APP_ID)
    points = services.create_definition(application, {"name": "Points", "type": "number"}, ACTOR)
    customers = [create_customer(application, {"phone_number": f"98{n:08d}"}, ACTOR).id for n in range(400)]
    customers.insert(200, "0123456789abcdef01234567")  # one unknown id in the middle: one error row
    payload = bulk.same_payload(application, {"users": customers, "attribute": [{"key": "points", "value": 9}]})
    job = jobs.create_job(application, bulk.KIND, ACTOR, payload=jobs.payload_dict(payload), total=len(customers),
                          enqueue=False)

    queue, log = workers.private_queue(monkeypatch), tmp_path / "worker.log"
    env = workers.worker_env(media, ATTRIBUTE_BULK_CHUNK_SIZE=4)
    workers.kill_midway(job.pk, env, queue, log, when=lambda j: j.processed >= 40, what="40 customers done")

    killed = Job.objects.get(pk=job.pk)
    assert killed.status == "processing" and 40 <= killed.processed < 401, killed.processed
    # Exactly whole chunks were committed: values, audit events, counters and checkpoint agree.
    written = UserAttribute.objects.filter(definition=points).count()
    assert written == killed.success_count and killed.checkpoint == {"done": killed.processed}
    assert AuditEvent.objects.filter(action="attribute.updated").count() == written

    workers.resume_in_new_worker(job.pk, env, queue, log)

    done = Job.objects.get(pk=job.pk)
    assert (done.status, done.total, done.processed, done.success_count, done.error_count, done.attempts) == (
        "completed_with_errors", 401, 401, 400, 1, 2)
    assert list(JobError.objects.filter(job=job).values_list("row_number", "reference")) == [
        (201, "0123456789abcdef01234567")]
    # every customer has the value exactly once: never written twice (version 0), none lost
    assert UserAttribute.objects.filter(definition=points).count() == 400 == Customer.objects.count()
    assert set(UserAttribute.objects.filter(definition=points).values_list("version", flat=True)) == {0}
    assert set(UserAttributeValue.objects.filter(definition_id=points.id).values_list("number_value", flat=True)) == {9}
    assert AuditEvent.objects.filter(action="attribute.updated").count() == 400


# --------------------------------------------------------------------------- manage.py bulk_update_attributes


@pytest.mark.django_db(transaction=True)
def test_command_updates_the_customers_of_a_local_csv(media, tmp_path, capsys):
    application, _ = core_services.create_application(company_id=COMPANY_ID, name="Demo", application_id=APP_ID)
    tier = services.create_definition(application, {"name": "Tier", "type": "string"}, ACTOR)
    points = services.create_definition(application, {"name": "Points", "type": "number"}, ACTOR)
    tags = services.create_definition(application, {"name": "Tags", "type": "string", "multi_value": True}, ACTOR)
    people = [create_customer(application, {"phone_number": f"98{n:08d}"}, ACTOR).id for n in range(30)]
    source = tmp_path / "people.csv"
    source.write_text("user_id\n" + "\n".join(people) + "\nnot-an-id\n")
    call_command("bulk_update_attributes", "--application-id", APP_ID, "--file", str(source),
                 "--set", "tier=123", "--set", "points=5", "--set", 'tags=["a","b"]')
    out = capsys.readouterr()
    assert "completed_with_errors, 30 updated, 1 errors" in out.out and "/files/" in out.out
    assert values(application, tier, people) == ["123"] * 30  # a string attribute takes the text as is
    assert values(application, points, people) == [5] * 30
    assert values(application, tags, people[:1]) == [["a", "b"]]
    job = Job.objects.get()
    assert (job.kind, job.file_name, job.created_by["name"]) == (
        "attribute_bulk_update", "people.csv", "manage.py bulk_update_attributes")


@pytest.mark.django_db(transaction=True)
def test_command_refuses_bad_input(media, tmp_path, monkeypatch):
    application, _ = core_services.create_application(company_id=COMPANY_ID, name="Demo", application_id=APP_ID)
    services.create_definition(application, {"name": "Points", "type": "number"}, ACTOR)
    source = tmp_path / "people.csv"
    source.write_text("user_id\n0123456789abcdef01234567\n")
    run = ["bulk_update_attributes", "--application-id", APP_ID, "--file", str(source)]
    for extra, fragment in [(["--set", "nope=1"], "no attribute definition with slug 'nope'"),
                            (["--set", "points=many"], "Attribute 'points'"),
                            (["--set", "points"], "write slug=value")]:
        with pytest.raises(CommandError, match=fragment):
            call_command(*run, *extra)
    with pytest.raises(CommandError, match="No application"):
        call_command("bulk_update_attributes", "--application-id", "0" * 24, "--file", str(source), "--set", "a=1")
    with pytest.raises(CommandError, match="is not a file"):
        call_command(*run[:-1], str(tmp_path / "missing.csv"), "--set", "points=1")
    assert not Job.objects.exists()
    sent = []
    monkeypatch.setattr(celery_app.tasks["core.jobs.tasks.run_job"], "delay", sent.append)
    call_command(*run, "--set", "points=1", "--queue")
    job = Job.objects.get()
    assert sent == [job.pk] and job.status == "pending" and job.payload["input_file"].endswith("users.csv")
