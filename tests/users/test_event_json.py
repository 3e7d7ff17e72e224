"""A webhook's body is built by PostgreSQL (users.eventlog.event_json_sql) and the pull API's items by Python
(event_dict): for every kind of event they are the same JSON, and the wire id is the same too."""

import json
from datetime import datetime, timezone

import pytest
from django.db import connection

from core.actors import Actor
from users import eventlog, services
from users.models import AuditEvent

_SQL = (f"SELECT {eventlog.event_id_sql('e')}, {eventlog.event_json_sql('e')} FROM users_auditevent e "
        "WHERE e.id = %s")


def _built_by_postgresql(event: AuditEvent, company_id: int) -> tuple[str, dict]:
    with connection.cursor() as cursor:
        cursor.execute(_SQL, [str(company_id), event.pk])
        message_id, body = cursor.fetchone()
    return message_id, json.loads(body)


@pytest.mark.parametrize("customer_id, reason, data", [
    ("5f1e8c7a9b3d2e4f6a7b8c9d", "", {"changed": ["first_name"], "first_name": "Asha"}),
    ("5f1e8c7a9b3d2e4f6a7b8c9d", "fraud review", {"blocked": True}),  # the reason goes into data
    ("5f1e8c7a9b3d2e4f6a7b8c9d", "given", {"reason": "kept"}),  # … unless data has one
    ("", "", {}),  # the application's own event: no customer
    ("", "", {"nested": {"list": [1, 2.5, None, "ü"]}, "empty": []}),
])
def test_postgresql_builds_the_body_event_dict_makes(application, customer_id, reason, data):
    services.record_event(customer_id, application.id, "customer.updated", Actor.system("tests"), reason=reason,
                          data=data)
    eventlog.sequence_all()
    event = AuditEvent.objects.filter(application_id=application.id).latest("id")

    message_id, body = _built_by_postgresql(event, application.company_id)

    assert body == eventlog.event_dict(event, application.company_id)
    assert message_id == event.event_id == body["id"]


@pytest.mark.parametrize("moment", [
    datetime(2026, 12, 2, 5, 30, 1, 999_999, tzinfo=timezone.utc),  # milliseconds cut, not rounded
    datetime(2026, 1, 1, 0, 0, 0, 0, tzinfo=timezone.utc),
    datetime(1999, 12, 31, 23, 59, 59, 500, tzinfo=timezone.utc),
])
def test_times_and_ids_agree_to_the_millisecond_and_the_second(application, moment):
    services.record_event("", application.id, "group.created", Actor.system("tests"), data={})
    AuditEvent.objects.filter(application_id=application.id).update(created_at=moment)
    event = AuditEvent.objects.filter(application_id=application.id).latest("id")

    message_id, body = _built_by_postgresql(event, application.company_id)

    assert body["occurred_at"] == eventlog.event_dict(event, application.company_id)["occurred_at"]
    assert message_id == event.event_id
