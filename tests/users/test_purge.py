"""Archived customers past their restore window are purged: by the service, the command and the Celery task."""

import time
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from config import celery_app
from core.tenancy import services as core_services
from core.actors import Actor
from users import services, tasks
from users.models import ApplicationCustomerCount, AuditEvent, Customer, CustomerEmail, CustomerPhone
from tests.helpers import APP_ID, COMPANY_ID

ACTOR = Actor("api_client", "test-client", "test client")


def make_customer(application, n: int, **fields):
    return services.create_customer(
        application, {"phone_number": f"98765{n:05d}", "email": f"user{n}@example.com", **fields}, ACTOR)


def archive(application, customer, *, expired: bool):
    services.archive_customer(application, customer.id, ACTOR, reason="test")
    if expired:
        Customer.objects.filter(id=customer.id).update(restore_until=timezone.now() - timedelta(seconds=1))


@pytest.fixture
def population(application, other_application):
    """Live, archived-but-restorable and archived-and-expired customers in two applications."""
    live = make_customer(application, 1)
    in_window = make_customer(application, 2)
    expired = make_customer(application, 3)
    other_expired = make_customer(other_application, 4)
    other_in_window = make_customer(other_application, 5)
    archive(application, in_window, expired=False)
    archive(application, expired, expired=True)
    archive(other_application, other_expired, expired=True)
    archive(other_application, other_in_window, expired=False)
    return {"live": live, "in_window": in_window, "expired": expired, "other_expired": other_expired,
            "other_in_window": other_in_window}


def assert_purged(population):
    remaining = set(Customer.objects.values_list("id", flat=True))
    assert remaining == {population[k].id for k in ("live", "in_window", "other_in_window")}
    for key in ("expired", "other_expired"):
        customer_id = population[key].id
        assert not CustomerEmail.objects.filter(customer_id=customer_id).exists()
        assert not CustomerPhone.objects.filter(customer_id=customer_id).exists()
        # Only the fact of the purge is kept, without personal data.
        [event] = AuditEvent.objects.filter(customer_id=customer_id)
        assert event.action == "customer.purged" and event.actor_type == "system"
        assert event.reason == "" and event.data == {}
    # The survivors keep their whole trail.
    actions = list(AuditEvent.objects.filter(customer_id=population["in_window"].id)
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["customer.created", "customer.archived"]


def test_service_purges_only_expired_archived_customers(population):
    assert services.purge_archived_customers() == 2
    assert_purged(population)
    assert services.purge_archived_customers() == 0  # idempotent


def test_purge_keeps_counts_exact(population, application, other_application, api, url):
    services.purge_archived_customers()
    counts = ApplicationCustomerCount.objects.get(application=application)
    assert (counts.total, counts.archived) == (2, 1)
    counts = ApplicationCustomerCount.objects.get(application=other_application)
    assert (counts.total, counts.archived) == (1, 1)
    archived = api.get(url("customers/list") + "?archived=true").json()
    assert [i["_id"] for i in archived["items"]] == [population["in_window"].id]
    assert archived["page"]["item_total"] == 1
    everything = api.get(url("customers/list") + "?archived=all").json()
    assert everything["page"]["item_total"] == 2


def test_purge_honours_now(population):
    # Seen from 8 days ahead, the 7-day windows of the other archived customers have passed too.
    assert services.purge_archived_customers(now=timezone.now() + timedelta(days=8)) == 4
    assert set(Customer.objects.values_list("id", flat=True)) == {population["live"].id}


def test_purge_works_in_batches(application):
    customers = [make_customer(application, n) for n in range(7)]
    for customer in customers:
        archive(application, customer, expired=True)
    assert services.purge_archived_customers(batch_size=2) == 7
    assert not Customer.objects.exists()


def test_purged_contacts_cannot_be_restored(population, api, url):
    services.purge_archived_customers()
    response = api.put(url("customers/undelete"), {"user_id": population["expired"].id, "reason": "x"},
                       format="json")
    assert response.status_code == 404


def test_expired_but_not_purged_customer_is_gone_not_restorable(population, api, url):
    response = api.put(url("customers/undelete"), {"user_id": population["expired"].id, "reason": "x"},
                       format="json")
    assert response.status_code == 410


def test_management_command_purges(population):
    out = StringIO()
    call_command("purge_archived_customers", stdout=out)
    assert out.getvalue().strip() == "purged 2 customer(s)"
    assert_purged(population)
    out = StringIO()
    call_command("purge_archived_customers", stdout=out)
    assert out.getvalue().strip() == "purged 0 customer(s)"


def test_task_runs_inline(population):
    assert tasks.purge_archived_customers.apply().get() == 2
    assert_purged(population)


def test_task_is_scheduled_by_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["purge-archived-customers"]
    assert entry["task"] == tasks.purge_archived_customers.name == "users.tasks.purge_archived_customers"
    assert entry["task"] in celery_app.tasks


def _close_worker_db_connections(**_kwargs):
    # Runs in the worker thread: do not leave its connection to the test database open.
    connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_real_celery_worker_purges(transactional_db, monkeypatch):
    application, _ = core_services.create_application(company_id=COMPANY_ID, name="Demo Store", application_id=APP_ID)
    live = make_customer(application, 1)
    in_window = make_customer(application, 2)
    expired = [make_customer(application, n) for n in (3, 4, 5)]
    archive(application, in_window, expired=False)
    for customer in expired:
        archive(application, customer, expired=True)

    # A queue of our own: a worker of a running `make run` on the same Redis must not take the task.
    queue = f"test-purge-{uuid.uuid4().hex}"
    task = celery_app.tasks[tasks.purge_archived_customers.name]
    monkeypatch.setattr(task, "queue", queue, raising=False)
    monkeypatch.setattr(task, "_exec_options", None)
    task_postrun.connect(_close_worker_db_connections, weak=False)
    try:
        with start_worker(celery_app, perform_ping_check=False, queues=[queue], shutdown_timeout=30):
            tasks.purge_archived_customers.delay()
            deadline = time.monotonic() + 30
            while Customer.objects.filter(id__in=[c.id for c in expired]).exists():
                assert time.monotonic() < deadline, "the worker did not purge within 30 seconds"
                time.sleep(0.1)
    finally:
        task_postrun.disconnect(_close_worker_db_connections)

    assert set(Customer.objects.values_list("id", flat=True)) == {live.id, in_window.id}
    assert AuditEvent.objects.filter(action="customer.purged").count() == 3
    assert Customer.objects.get(id=in_window.id).archived is True
