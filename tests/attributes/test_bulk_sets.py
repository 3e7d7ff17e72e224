"""The set-based writes of bulk updates (attributes/bulk_writes.py) on the real PostgreSQL: duplicates,
replaced values, the index rows and audit events store_value would make, encryption, error precedence."""

import pytest
from django.test import override_settings

from attributes import bulk, services
from attributes.bulk_writes import Item
from attributes.models import UserAttribute, UserAttributeValue
from attributes.selectors import value_of
from core import jobs
from core.actors import Actor
from core.jobs.models import Job, JobError
from core.tenancy import services as core_services
from tests import workers
from tests.helpers import APP_ID, COMPANY_ID
from users.models import AuditEvent, Customer
from users.services import create_customer

ACTOR = Actor.system("tests")
INDEX_FIELDS = ("position", "text_value", "text_lower", "number_value", "bool_value", "time_value", "digest")


@pytest.fixture
def people(application):
    return [create_customer(application, {"phone_number": f"98{n:08d}"}, ACTOR).id for n in range(5)]


def define(application, name, type_, **extra):
    return services.create_definition(application, {"name": name, "type": type_, **extra}, ACTOR)


def index_of(definition, customer_id):
    return list(UserAttributeValue.objects.filter(definition_id=definition.id, customer_id=customer_id)
                .order_by("position").values_list(*INDEX_FIELDS))


def events_of(definition):
    return list(AuditEvent.objects.filter(action="attribute.updated", data__definition_id=definition.id)
                .order_by("id").values_list("customer_id", "data", "actor_name"))


def same(application, users, pairs):
    payload = bulk.same_payload(application, {"users": users, "attribute": [{"key": k, "value": v} for k, v in pairs]})
    return bulk.bulk_update(application, payload, ACTOR)


def test_rows_equal_what_store_value_writes(application, people):
    tags = define(application, "Tags", "string", multi_value=True)
    seen = define(application, "Seen", "datetime")
    services.set_value(application, tags.id, people[0], ["Gold", "vip"], ACTOR)
    services.set_value(application, seen.id, people[0], "2024-05-01T10:00:00Z", ACTOR)
    expected_index = [index_of(tags, people[0]), index_of(seen, people[0])]
    expected_events = [data for _, data, _ in events_of(tags) + events_of(seen)]

    answer = same(application, [people[1]], [("tags", ["Gold", "vip"]), ("seen", "2024-05-01T10:00:00Z")])

    assert (answer["processed"], answer["errors"]) == (1, [])
    assert [index_of(tags, people[1]), index_of(seen, people[1])] == expected_index
    assert [data for c, data, _ in events_of(tags) + events_of(seen) if c == people[1]] == expected_events
    written = UserAttribute.objects.get(definition=tags, customer_id=people[1])
    assert (written.version, written.created_by, written.updated_by, written.application_id) == (
        0, "tests", "tests", application.id)
    assert len(written.id) == 24 and written.id != UserAttribute.objects.get(definition=seen, customer_id=people[1]).id


def test_a_second_update_replaces_values_index_rows_and_keeps_customer_overridden(application, people):
    tier = define(application, "Tier", "string")
    services.set_value(application, tier.id, people[0], "old", ACTOR, customer_overridden=True)
    same(application, people[:2], [("tier", "new")])
    same(application, people[:2], [("tier", "newer")])

    rows = {a.customer_id: a for a in UserAttribute.objects.filter(definition=tier)}
    assert [(value_of(rows[p]), rows[p].version, rows[p].customer_overridden) for p in people[:2]] == [
        ("newer", 2, True), ("newer", 1, False)]
    assert [index_of(tier, p) for p in people[:2]] == [[(0, "newer", "newer", None, None, None, None)]] * 2
    created = [(c, data["created"], data["value"]) for c, data, _ in events_of(tier)]
    assert created[0] == (people[0], True, "old")
    assert sorted(created[1:3]) == sorted([(people[0], False, "new"), (people[1], True, "new")])
    assert sorted(created[3:]) == sorted([(people[0], False, "newer"), (people[1], False, "newer")])


@override_settings(ATTRIBUTE_BULK_SYNC_LIMIT=1)
def test_duplicate_ids_in_a_file_count_each_row_and_the_value_is_written_once(application, people, media, tmp_path):
    tier = define(application, "Tier", "string")
    source = tmp_path / "ids.csv"
    source.write_text("user_id\n" + "\n".join([people[0], people[1], people[0], people[0]]) + "\n")
    payload = bulk.BulkUpdatePayload("same", bulk.checked_attributes(application, [{"key": "tier", "value": "x"}]))
    job = jobs.create_job(application, bulk.KIND, ACTOR, payload=jobs.payload_dict(payload), enqueue=False)
    with source.open("rb") as handle:
        jobs.store_job_input(job, handle, "users.csv")
    jobs.run_job(job.pk)
    job = Job.objects.get(pk=job.pk)
    assert (job.status, job.total, job.processed, job.success_count) == ("completed", 4, 4, 4)
    assert sorted(UserAttribute.objects.filter(definition=tier).values_list("customer_id", "version")) == sorted(
        [(people[0], 0), (people[1], 0)])
    assert sorted(c for c, _, _ in events_of(tier)) == sorted(people[:2])


def test_per_user_the_last_row_wins_and_errors_keep_their_precedence(application, people):
    tier = define(application, "Tier", "string", validations=[{"type": "enum", "value": ["gold", "silver"]}])
    points = define(application, "Points", "number")
    unknown = "0123456789abcdef01234567"
    payload = bulk.per_user_payload({"user_detail_attributes": [
        {"user_id": people[0], "attributes": [{"key": "tier", "value": "gold"}, {"key": "points", "value": 1}]},
        {"user_id": unknown, "attributes": [{"key": "tier", "value": "bronze"}]},  # the customer comes first
        {"user_id": people[0], "attributes": [{"key": "tier", "value": "silver"}]},
        {"user_id": people[1], "attributes": [{"key": "points", "value": 2}, {"key": "tier", "value": "bronze"}]},
        {"user_id": people[2], "attributes": [{"key": "points", "value": 3}, {"key": "points", "value": 4}]},
        {"user_id": "NOT-AN-ID", "attributes": [{"key": "nope", "value": 1}]},
    ]})
    answer = bulk.bulk_update(application, payload, ACTOR)

    assert (answer["total"], answer["processed"], answer["errors_count"]) == (6, 3, 3)
    assert [e["user_id"] for e in answer["errors"]] == [unknown, people[1], "NOT-AN-ID"]
    unknown_error, invalid_error, malformed_error = (e["error"] for e in answer["errors"])
    assert unknown_error == f"No customer {unknown} in this application."
    assert invalid_error.startswith("Attribute 'tier': the value") and "gold" in invalid_error
    assert malformed_error == "'NOT-AN-ID' is not a user id."
    found = {(a.definition_id, a.customer_id): value_of(a) for a in UserAttribute.objects.all()}
    assert found == {(tier.id, people[0]): "silver", (points.id, people[0]): 1, (points.id, people[2]): 4}
    assert UserAttributeValue.objects.filter(definition_id=points.id, customer_id=people[2]).count() == 1


def test_encrypted_values_get_a_ciphertext_each_and_the_same_digests(application, people):
    pin = define(application, "Pin", "string", encrypted=True)
    services.set_value(application, pin.id, people[0], "1234", ACTOR)
    same(application, people[1:4], [("pin", "1234")])

    stored = {a.customer_id: a for a in UserAttribute.objects.filter(definition=pin)}
    assert {value_of(a) for a in stored.values()} == {"1234"}
    assert all(a.value is None for a in stored.values())
    assert len({a.ciphertext for a in stored.values()}) == 4  # never one ciphertext shared
    assert {tuple(index_of(pin, p)) for p in people[:4]} == {tuple(index_of(pin, people[0]))}
    assert all(data == {"definition_id": pin.id, "slug": "pin", "encrypted": True, "created": True}
               for _, data, _ in events_of(pin))


def test_an_archived_customer_is_refused_like_get_customer_does(application, people):
    tier = define(application, "Tier", "string")
    Customer.objects.filter(pk=people[1]).update(archived=True)
    answer = same(application, people[:2], [("tier", "x")])
    assert answer["errors"] == [{"user_id": people[1], "error": f"No customer {people[1]} in this application."}]
    assert list(UserAttribute.objects.filter(definition=tier).values_list("customer_id", flat=True)) == [people[0]]


def test_a_definition_deleted_before_the_job_runs_is_an_error_per_row(application, people):
    tier = define(application, "Tier", "string")
    items = [Item(1, people[0], [("tier", "x")]), Item(2, "bad", [("tier", "x")])]
    services.delete_definition(application, tier.id, ACTOR)
    result = bulk.apply_items(application, items, ACTOR, same=True)
    assert result.success == 0
    assert [(e.row_number, e.message) for e in result.errors] == [
        (1, "no attribute definition with slug 'tier' in this application."), (2, "'bad' is not a user id.")]


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_resumes_a_file_with_duplicates_to_one_clean_run(media, tmp_path, monkeypatch):
    application, _ = core_services.create_application(company_id=COMPANY_ID, name="Demo", application_id=APP_ID)
    tags = services.create_definition(application, {"name": "Tags", "type": "string", "multi_value": True}, ACTOR)
    customers = [create_customer(application, {"phone_number": f"98{n:08d}"}, ACTOR).id for n in range(300)]
    ids = customers + customers[:50]  # the first 50 twice: in other chunks
    source = tmp_path / "ids.csv"
    source.write_text("user_id\n" + "\n".join(ids) + "\n")
    payload = bulk.BulkUpdatePayload("same", bulk.checked_attributes(
        application, [{"key": "tags", "value": ["a", "b"]}]))
    job = jobs.create_job(application, bulk.KIND, ACTOR, payload=jobs.payload_dict(payload), enqueue=False)
    with source.open("rb") as handle:
        jobs.store_job_input(job, handle, "users.csv")

    queue, log = workers.private_queue(monkeypatch), tmp_path / "worker.log"
    env = workers.worker_env(media, ATTRIBUTE_BULK_CHUNK_SIZE=5)
    workers.kill_midway(job.pk, env, queue, log, when=lambda j: j.processed >= 60, what="60 rows done")
    killed = Job.objects.get(pk=job.pk)
    assert killed.status == "processing" and killed.checkpoint == {"done": killed.processed}
    assert AuditEvent.objects.filter(action="attribute.updated").count() == killed.processed

    workers.resume_in_new_worker(job.pk, env, queue, log)

    done = Job.objects.get(pk=job.pk)
    assert (done.status, done.total, done.processed, done.success_count, done.attempts) == (
        "completed", 350, 350, 350, 2)
    assert not JobError.objects.filter(job=job).exists()
    versions = dict(UserAttribute.objects.filter(definition=tags).values_list("customer_id", "version"))
    assert versions == {c: 1 if i < 50 else 0 for i, c in enumerate(customers)}
    assert UserAttributeValue.objects.filter(definition_id=tags.id).count() == 600  # two elements each
    assert AuditEvent.objects.filter(action="attribute.updated").count() == 350
