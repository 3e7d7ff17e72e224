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


def test_the_connection_is_kept_from_one_task_to_the_next(settings):
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 600
    first = backend_pid()
    for _ in range(3):
        around_a_task()
    assert backend_pid() == first


def test_a_broken_connection_is_dropped_around_a_task(settings):
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 600
    first = backend_pid()
    with pytest.raises(OperationalError), connection.cursor() as cursor:  # the server ends the session
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    around_a_task()
    assert backend_pid() != first


def test_without_a_max_age_the_connection_lasts_one_task(settings):
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
    connection.close()
    first = backend_pid()
    around_a_task()
    assert backend_pid() != first
