"""The event log (users.eventlog, docs/events.md): events written with their change, numbered after commit in
the order they become visible, and read in that order by ``GET …/events`` with an opaque cursor."""

import re
import threading
from contextlib import contextmanager

import pytest
from django.db import connection, transaction

from core.actors import Actor
from core.tenancy.models import SCOPE_CUSTOMERS_WRITE
from tests.helpers import assert_error
from users import eventlog, events, services
from users.models import AuditEvent

EVENT_ID = re.compile(r"^[0-9a-f]{24}$")
ACTOR = Actor.system("tests")


def _pull(api, url, **params):
    response = api.get(url("events"), params)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_change_is_an_event_numbered_after_commit_and_pulled_in_order(api, url, create_customer, application):
    user = create_customer(email="asha@example.com", first_name="Asha")
    event = AuditEvent.objects.get(customer_id=user["_id"], action=events.CUSTOMER_CREATED)
    assert event.published and event.sequence is None  # written with the change, numbered later
    assert _pull(api, url)["items"] == []  # nothing unnumbered is served

    assert eventlog.sequence_all() >= 1
    page = _pull(api, url)
    [item] = page["items"]
    assert item == {
        "id": item["id"], "type": "customer.created", "version": 1, "sequence": item["sequence"],
        "occurred_at": item["occurred_at"], "application_id": application.id, "company_id": "559",
        "customer_id": user["_id"], "actor": {"type": "api_client", "id": item["actor"]["id"], "name": "test client"},
        "request_id": item["request_id"], "data": item["data"],
    }
    assert EVENT_ID.match(item["id"]) and item["data"]["email"] == "asha@example.com" and item["request_id"]
    assert page["page"]["has_next"] is False and page["page"]["type"] == "cursor"

    # resuming from the last page's cursor gives exactly what happened since
    cursor = page["page"]["next_id"]
    assert _pull(api, url, after=cursor)["items"] == []
    assert api.put(url(f"customers/{user['_id']}"), {"last_name": "Rao"}, format="json").status_code == 200
    eventlog.sequence_all()
    later = _pull(api, url, after=cursor)["items"]
    assert [e["type"] for e in later] == ["customer.updated"]
    assert later[0]["sequence"] > item["sequence"] and later[0]["data"]["changed"] == {"last_name": "Rao"}


def test_a_rolled_back_change_leaves_no_event(application):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.record_event("a" * 24, application.id, events.CUSTOMER_BLOCKED, ACTOR)
        raise RuntimeError("the change failed")
    assert not AuditEvent.objects.filter(application_id=application.id).exists()
    assert eventlog.sequence_all() == 0


def test_pages_follow_each_other_with_filters(api, url, create_customer, application, other_application):
    asha = create_customer(email="asha@example.com")
    ravi = create_customer(email="ravi@example.com")
    for uid in (asha["_id"], ravi["_id"]):
        assert api.put(url(f"customers/{uid}"), {"first_name": "X"}, format="json").status_code == 200
    services.record_event("b" * 24, other_application.id, events.CUSTOMER_BLOCKED, ACTOR)  # never shown here
    eventlog.sequence_all()

    seen, cursor = [], None
    while True:
        page = _pull(api, url, page_size=1, **({"after": cursor} if cursor else {}))
        seen += page["items"]
        cursor = page["page"]["next_id"]
        if not page["page"]["has_next"]:
            break
    assert [e["type"] for e in seen] == ["customer.created"] * 2 + ["customer.updated"] * 2
    assert [e["sequence"] for e in seen] == sorted(e["sequence"] for e in seen)
    assert {e["application_id"] for e in seen} == {application.id}

    assert [e["customer_id"] for e in _pull(api, url, user_id=ravi["_id"])["items"]] == [ravi["_id"]] * 2
    assert {e["type"] for e in _pull(api, url, type="customer.updated")["items"]} == {"customer.updated"}
    assert len(_pull(api, url, type="customer.created,customer.updated")["items"]) == 4
    assert _pull(api, url, since="2999-01-01T00:00:00Z")["items"] == []
    assert len(_pull(api, url, until="2999-01-01")["items"]) == 4

    assert_error(api.get(url("events"), {"type": "customer.exploded"}), 400, "type")
    assert_error(api.get(url("events"), {"user_id": "nope"}), 400, "user_id")
    assert_error(api.get(url("events"), {"since": "yesterday"}), 400, "since")
    assert_error(api.get(url("events"), {"after": "not-a-cursor"}), 400, "after")


def test_reading_events_needs_the_read_scope(make_client, url):
    writer = make_client(scopes=[SCOPE_CUSTOMERS_WRITE])
    assert writer.get(url("events")).status_code == 403


@contextmanager
def open_transaction_in_a_thread(work):
    """Runs ``work()`` in a transaction of another thread (its own connection) and keeps that transaction
    open while the block runs; it commits when the block ends."""
    started, release = threading.Event(), threading.Event()

    def run():
        try:
            with transaction.atomic():
                work()
                started.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert started.wait(10)
        yield
    finally:
        release.set()
        thread.join(10)


@pytest.mark.django_db(transaction=True)
def test_an_event_that_commits_late_is_numbered_after_those_already_read(application):
    """A transaction that wrote its event first but commits last: a reader who read the others never
    misses it (it gets a higher number than anything read before)."""
    with open_transaction_in_a_thread(
            lambda: services.record_event("c" * 24, application.id, events.CUSTOMER_BLOCKED, ACTOR)):
        services.record_event("d" * 24, application.id, events.CUSTOMER_UNBLOCKED, ACTOR)  # commits at once
        eventlog.sequence_all()
        first = list(AuditEvent.objects.filter(application_id=application.id, sequence__isnull=False))
        assert [e.customer_id for e in first] == ["d" * 24]
    eventlog.sequence_all()
    late = AuditEvent.objects.get(customer_id="c" * 24)
    assert late.id < first[0].id  # it was written first …
    assert late.sequence > first[0].sequence  # … and is read after what was read already


@pytest.mark.django_db(transaction=True)
def test_one_numbering_at_a_time(application):
    services.record_event("e" * 24, application.id, events.CUSTOMER_BLOCKED, ACTOR)

    def hold_the_lock():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [eventlog._LOCK_KEY])

    with open_transaction_in_a_thread(hold_the_lock):
        assert eventlog.assign_sequences() is None  # another process is numbering
    assert len(eventlog.assign_sequences()) == 1


def test_numbered_events_reach_the_hooks_in_the_numbering_transaction(application, monkeypatch):
    seen = []

    def hook(ids):
        seen.append((ids, AuditEvent.objects.filter(id__in=ids, sequence__isnull=True).count()))

    def failing_hook(ids):
        raise RuntimeError("the deliveries could not be written")

    services.record_event("f" * 24, application.id, events.CUSTOMER_BLOCKED, ACTOR)
    monkeypatch.setattr(eventlog, "_hooks", [failing_hook])
    with pytest.raises(RuntimeError):
        eventlog.assign_sequences()
    assert AuditEvent.objects.get(customer_id="f" * 24).sequence is None  # numbers and hook's writes: together

    monkeypatch.setattr(eventlog, "_hooks", [hook])
    ids = eventlog.assign_sequences()
    assert len(ids) == 1 and seen == [(ids, 0)]  # the hook sees them numbered
    assert eventlog.assign_sequences() == [] and len(seen) == 1  # an empty batch calls no hook


def test_a_finished_job_is_one_summary_event_with_counts_and_links(api, url, create_customer, application):
    from core import jobs
    from core.jobs.models import Job

    create_customer()
    create_customer()
    started = api.post(url("users/jobs/export"), {"file_format": "csv"}, format="json").json()
    jobs.run_job(started["_id"])
    eventlog.sequence_all()
    [event] = _pull(api, url, type="job.completed")["items"]
    data = event["data"]
    assert (data["job_id"], data["kind"], data["status"], data["total"], data["success_count"], data["error_count"]) \
        == (started["_id"], "customer_export", "completed", 2, 2, 0)
    assert event["customer_id"] is None and event["actor"]["type"] == "api_client"
    assert api.get(data["links"]["result_file"]).status_code == 200  # a signed link that works

    broken = jobs.create_job(application, "customer_import", ACTOR, payload={}, enqueue=False)  # no file: fails
    jobs.run_job(broken.pk)
    assert Job.objects.get(pk=broken.pk).status == "failed"
    eventlog.sequence_all()
    [failed] = _pull(api, url, type="job.failed")["items"]
    assert failed["data"]["job_id"] == broken.pk and failed["data"]["kind"] == "customer_import"
    assert "payload" in failed["data"]["error"] and failed["actor"] == {"type": "system", "id": "", "name": "tests"}


def test_group_changes_are_events_and_a_list_change_is_the_customers(api, url, create_customer, application):
    from attributes import services as attribute_services

    asha = create_customer()
    points = attribute_services.create_definition(application, {"name": "Points", "type": "number"}, ACTOR)
    created = api.post(url("user_group"), {"name": "VIP", "description": "best", "type": "conditional", "conditions": [
        {"user_attribute_definition_id": points.pk, "type": "gt", "value": 10}]}, format="json")
    assert created.status_code in (200, 201), created.content
    group_id = created.json()["_id"]
    patched = api.patch(url(f"user_group/{group_id}"), {"whitelisted_users": [asha["_id"]]}, format="json")
    assert patched.status_code == 200, patched.content
    eventlog.sequence_all()
    items = _pull(api, url, type="group.created,group.updated,group.membership_changed")["items"]
    assert [e["type"] for e in items] == ["group.created", "group.membership_changed", "group.updated"]
    assert items[0]["data"]["group_id"] == group_id and items[0]["customer_id"] is None
    assert items[1]["customer_id"] == asha["_id"]
    assert items[1]["data"] | {"uid": 0} == {"group_id": group_id, "uid": 0, "list": "whitelisted", "change": "added"}
    assert items[2]["data"]["changed"] == ["whitelisted_users"]


def test_retention_serves_recent_events_and_deletes_old_application_events(api, url, create_customer, application,
                                                                           settings):
    user = create_customer()
    services.record_event("", application.id, events.PLATFORM_CONFIG_UPDATED, ACTOR, data={"changed": ["login"]})
    eventlog.sequence_all()
    assert len(_pull(api, url)["items"]) == 2
    from datetime import timedelta

    from django.utils import timezone

    AuditEvent.objects.filter(application_id=application.id).update(created_at=timezone.now() - timedelta(days=31))
    assert _pull(api, url)["items"] == []  # past EVENT_RETENTION_DAYS (30): no longer served
    assert eventlog.trim() == 1  # the application's event goes …
    assert AuditEvent.objects.filter(customer_id=user["_id"]).exists()  # … the customer's stays (their timeline)
    assert api.get(url(f"customers/{user['_id']}/timeline")).json()["timeline"]
