"""A Celery worker keeps its database connection from task to task (beat's ticks run several tasks a second;
a new connection each time cost PostgreSQL a new backend process), and still drops a broken or expired one
around a task, as Django does around a request (config/celery.py)."""

import pytest
from celery.fixups.django import DjangoWorkerFixup
from celery.signals import task_postrun, task_prerun
from django.db import OperationalError, connection

from config import celery_app

pytestmark = pytest.mark.django_db(transaction=True)


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def around_a_task():
    """What a worker does around a task: Celery's Django fixup, then the signals."""
    DjangoWorkerFixup(celery_app).close_database()
    task_prerun.send(sender=None)
    task_postrun.send(sender=None)


@pytest.fixture
def max_age(monkeypatch):
    def set_to(seconds: int) -> None:
        monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", seconds)

    return set_to


def test_the_connection_is_kept_from_one_task_to_the_next(max_age):
    max_age(600)
    first = backend_pid()
    for _ in range(3):
        around_a_task()
    assert backend_pid() == first


def test_a_broken_connection_is_dropped_around_a_task(max_age):
    max_age(600)
    first = backend_pid()
    with pytest.raises(OperationalError), connection.cursor() as cursor:  # the server ends the session
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    around_a_task()
    assert backend_pid() != first


def test_without_a_max_age_the_connection_lasts_one_task(max_age):
    max_age(0)
    connection.close()
    first = backend_pid()
    around_a_task()
    assert backend_pid() != first


def test_a_task_run_inline_leaves_the_callers_connection_and_transaction_alone(max_age):
    from django.db import transaction

    from users.tasks import purge_archived_customers

    max_age(0)
    with transaction.atomic():
        first = backend_pid()
        purge_archived_customers.apply()  # eager: the prerun / postrun signals are sent all the same
        assert backend_pid() == first and connection.in_atomic_block
