"""JobHandler.payload: a job's stored payload read as the kind's Payload dataclass, whatever version
wrote it (unknown keys ignored, missing optional keys defaulted, a missing required key a failed job);
and jobs.payload_dict, the one way a start service writes it."""

from types import SimpleNamespace

import pytest

from attributes import bulk
from core import jobs
from core.actors import Actor
from core.api.errors import ServiceError
from core.jobs.models import Job
from groups import processing
from tests import job_handlers
from users.transfers import exports, imports, sources

ACTOR = Actor("api_client", "client-1", "ops client")


def stored(kind: str, payload) -> SimpleNamespace:
    return SimpleNamespace(kind=kind, payload=payload)


def read(kind: str, payload):
    return jobs.handler_for(kind).payload(stored(kind, payload))


def test_every_handler_is_a_job_handler_with_a_frozen_payload_dataclass():
    for kind in (imports.KIND, exports.KIND, processing.KIND, bulk.KIND, "test_rows", "test_set_based"):
        handler = jobs.handler_for(kind)
        assert isinstance(handler, jobs.JobHandler)
        assert handler.Payload.__dataclass_params__.frozen


def test_missing_optional_keys_take_their_defaults():
    payload = read("test_rows", {"rows": 3})
    assert payload == job_handlers.RowsPayload(rows=3, chunk_size=10, sleep=0)
    assert payload.fail_at is None and payload.cancel_after is None


def test_unknown_keys_are_ignored():
    # keys the shared helpers record (input_file, input_copy) and keys of another version
    payload = read("test_rows", {"rows": 3, "input_file": "jobs/a/b/upload.csv", "input_copy": "x", "retired": 1})
    assert payload == job_handlers.RowsPayload(rows=3)


def test_a_missing_required_key_is_a_service_error_naming_it():
    with pytest.raises(ServiceError) as raised:
        read(processing.KIND, {"mode": "replace", "user_data": []})
    assert raised.value.message == "the payload of this group_file job has no group_id, source: it cannot run."
    assert raised.value.code == "job_payload_invalid"
    with pytest.raises(ServiceError, match="has no rows"):
        read("test_rows", None)  # not even an object


@pytest.mark.parametrize("kind, payload, expected", [
    # the shapes the start services and shared helpers wrote before the payloads were typed
    (imports.KIND, {"absolute_url": "https://files.example.com/c.csv", "relative_url": "c.csv",
                    "input_copy": "jobs/a/j/input.csv", "input": {"name": "jobs/a/j/input.csv", "rows": 2}},
     sources.ImportPayload(absolute_url="https://files.example.com/c.csv", relative_url="c.csv",
                           input_copy="jobs/a/j/input.csv", input={"name": "jobs/a/j/input.csv", "rows": 2})),
    (imports.KIND, {"stored_file": "jobs/a/j/upload.csv"}, sources.ImportPayload(stored_file="jobs/a/j/upload.csv")),
    (exports.KIND, {}, jobs.NoPayload()),
    (processing.KIND, {"group_id": "g", "mode": "patch", "source": "file", "file_url": None},
     processing.GroupFilePayload("g", "patch", "file")),
    (processing.KIND, {"group_id": "g", "mode": "replace", "source": "json", "user_data": [{"user_id": "u"}]},
     processing.GroupFilePayload("g", "replace", "json", user_data=[{"user_id": "u"}])),
    (bulk.KIND, {"mode": "same", "attributes": [["points", 9]], "input_file": "jobs/a/j/users.csv"},
     bulk.BulkUpdatePayload("same", [["points", 9]], input_file="jobs/a/j/users.csv")),
    (bulk.KIND, {"mode": "per_user", "items": [["u", [["points", 1]]]]},
     bulk.BulkUpdatePayload("per_user", items=[["u", [["points", 1]]]])),
])
def test_payloads_stored_before_the_change_read_as_before(kind, payload, expected):
    assert read(kind, payload) == expected


def test_payload_dict_writes_the_set_fields_only_and_copies_nothing():
    users = ["a" * 24, "b" * 24]
    payload = bulk.BulkUpdatePayload("same", [["points", 9]], users=users)
    written = jobs.payload_dict(payload)
    assert written == {"mode": "same", "attributes": [["points", 9]], "users": users}
    assert written["users"] is users  # a request's list of ids is stored as it is, not copied
    assert jobs.payload_dict(processing.GroupFilePayload("g", "replace", "file", file_url="https://x/f.csv")) == {
        "group_id": "g", "mode": "replace", "source": "file", "file_url": "https://x/f.csv"}
    assert jobs.payload_dict(sources.ImportPayload(absolute_url="https://x/c.csv")) == {
        "absolute_url": "https://x/c.csv", "relative_url": ""}


# --------------------------------------------------------------------------- through the runner

def make_job(application, payload) -> Job:
    return jobs.create_job(application, "test_rows", ACTOR, payload=payload, enqueue=False)


def test_a_job_with_extra_and_old_keys_runs_to_completion(application):
    job = make_job(application, {"rows": 5, "chunk_size": 2, "input_copy": "gone.csv", "n": 1})
    assert jobs.run_job(job.pk) == "completed"
    job.refresh_from_db()
    assert (job.processed, job.success_count, job.checkpoint) == (5, 5, {"next": 6})


def test_a_job_missing_a_required_key_fails_with_a_clear_message(application):
    job = make_job(application, {"chunk_size": 2})
    assert jobs.run_job(job.pk) == "failed"
    job.refresh_from_db()
    assert job.error == "the payload of this test_rows job has no rows: it cannot run."
    assert (job.processed, job.finished_at is not None, job.lease) == (0, True, "")
    # the worker is fine: the next job runs
    assert jobs.run_job(make_job(application, {"rows": 1}).pk) == "completed"
