"""manage.py list_sessions / end_sessions, for support staff."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from core.actors import Actor
from sessions_app import services, store
from users.models import AuditEvent


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def sessions(application, create_customer):
    customer = create_customer()
    actor = Actor.system("test")
    made = [services.create_session(application, customer["_id"], max_age=600 * (i + 1), domain="d.example",
                                    ip="10.0.0.1", user_agent="ua", actor=actor)[0] for i in range(2)]
    return customer["_id"], [s.session_id for s in made]


def test_list_sessions(application, sessions):
    customer_id, ids = sessions
    lines = [json.loads(line) for line in run("list_sessions", "--application-id", application.id,
                                               "--user-id", customer_id).splitlines()]
    assert [line["session_id"] for line in lines] == ids
    assert lines[0]["ip"] == "10.0.0.1" and lines[0]["domain"] == "d.example"


def test_end_one_session(application, sessions):
    customer_id, ids = sessions
    out = json.loads(run("end_sessions", "--application-id", application.id, "--user-id", customer_id,
                         f"--session-id={ids[0]}", "--reason", "ticket 42", "--operator", "alice"))  # ids may start with -
    assert out == {"user_id": customer_id, "session_ids": [ids[0]]}
    assert store.get(ids[0]) is None and store.get(ids[1]) is not None
    event = AuditEvent.objects.get(customer_id=customer_id, action="session.deleted")
    assert event.reason == "ticket 42" and event.actor_type == "system" and "alice" in event.actor_name


def test_end_all_sessions(application, sessions):
    customer_id, ids = sessions
    out = json.loads(run("end_sessions", "--application-id", application.id, "--user-id", customer_id,
                         "--reason", "stolen laptop"))
    assert sorted(out["session_ids"]) == sorted(ids)
    assert run("list_sessions", "--application-id", application.id, "--user-id", customer_id) == ""
    assert AuditEvent.objects.filter(customer_id=customer_id, action="sessions.deleted",
                                     reason="stolen laptop").exists()


@pytest.mark.parametrize("args, fragment", [
    (["list_sessions", "--application-id", "f" * 24, "--user-id", "0" * 24], "No application"),
    (["list_sessions", "--application-id", "{app}", "--user-id", "0" * 24], "No customer"),
    (["end_sessions", "--application-id", "{app}", "--user-id", "0" * 24, "--reason", "x"], "No customer"),
    (["end_sessions", "--application-id", "{app}", "--user-id", "{cid}", "--session-id", "nope", "--reason", "x"],
     "No live session"),
    (["end_sessions", "--application-id", "{app}", "--user-id", "{cid}", "--reason", " "], "reason"),
])
def test_errors_are_command_errors(application, sessions, args, fragment):
    customer_id, _ = sessions
    args = [a.format(app=application.id, cid=customer_id) for a in args]
    with pytest.raises(CommandError, match=fragment):
        run(*args)
