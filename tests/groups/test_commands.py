"""manage.py process_group (the group's last file again, or a local CSV; here or --queue) and
export_group_members (every member as CSV, streamed)."""

import io

import pytest
from django.core.management import CommandError, call_command

from core import jobs
from core.actors import Actor
from core.jobs.models import Job
from groups import services
from groups.models import Membership, UserGroup
from tests.helpers import APP_ID
from tests.file_server import serve_files
from users import services as user_services

SYSTEM = Actor.system("test")


pytestmark = pytest.mark.usefixtures("local_file_urls")  # FILE_URL_ALLOWED_HOSTS = ["localhost"]


@pytest.fixture
def people(application):
    return [user_services.create_customer(application, {"phone_number": f"98765000{n}0", "first_name": f"p{n}",
                                                        "email": f"p{n}@example.com"}, SYSTEM) for n in range(4)]


def members(group) -> set:
    return set(Membership.objects.filter(group_id=group.pk).values_list("customer_id", flat=True))


def test_process_group_with_a_local_file_then_its_last_file_again(application, people, tmp_path):
    group = services.create_group(application, {"name": "G", "description": "d", "user_data": [
        {"user_id": people[0].pk, "action": "add"}]}, SYSTEM)
    source = tmp_path / "members.csv"
    source.write_text("email\np1@example.com\np2@example.com\nnobody@example.com\n")
    out = io.StringIO()
    call_command("process_group", "--application-id", APP_ID, str(group.uid), "--file", str(source), stdout=out)
    assert f"group {group.uid}: completed_with_errors" in out.getvalue()
    assert "3 rows, 2 applied, 1 rejected; 2 members" in out.getvalue() and "/files/" in out.getvalue()
    assert members(group) == {people[1].pk, people[2].pk}
    source.write_text(f"user_id,action\n{people[3].pk},add\n{people[1].pk},remove\n")
    call_command("process_group", "--application-id", APP_ID, group.pk, "--file", str(source), "--mode", "patch",
                 stdout=io.StringIO())
    assert members(group) == {people[2].pk, people[3].pk}
    Membership.objects.filter(group_id=group.pk, customer_id=people[3].pk).delete()  # lost somehow
    out = io.StringIO()
    call_command("process_group", "--application-id", APP_ID, group.pk, stdout=out)
    assert "completed" in out.getvalue()
    assert members(group) == {people[2].pk, people[3].pk}  # the last file again, as given: a patch


def test_process_group_fetches_the_url_again_or_queues(application, people, monkeypatch,
                                                      django_capture_on_commit_callbacks):
    from config import celery_app
    from core.jobs import tasks as core_tasks  # noqa: F401

    with serve_files({"/g.csv": f"user_id\n{people[0].pk}\n".encode()}) as base:
        group = services.create_group(application, {"name": "G", "description": "d", "file_url": f"{base}/g.csv"},
                                      SYSTEM)
        with pytest.raises(CommandError, match="is processing a change"):  # its first job waits for a worker
            call_command("process_group", "--application-id", APP_ID, group.pk, stdout=io.StringIO())
        jobs.run_job(group.job_id)
        Membership.objects.filter(group_id=group.pk).delete()
        call_command("process_group", "--application-id", APP_ID, group.pk, stdout=io.StringIO())
        assert members(group) == {people[0].pk}
        sent = []
        monkeypatch.setattr(celery_app.tasks["core.jobs.tasks.run_job"], "delay", sent.append)
        out = io.StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("process_group", "--application-id", APP_ID, group.pk, "--queue", stdout=out)
    group.refresh_from_db()
    assert sent == [group.job_id] and group.job.status == "pending" and "queued" in out.getvalue()


def test_process_group_refuses_bad_input(application, people, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name\nAsha\n")
    group = services.create_group(application, {"name": "G", "description": "d", "user_data": [
        {"user_id": people[0].pk, "action": "add"}]}, SYSTEM)
    run = ["process_group", "--application-id", APP_ID]
    with pytest.raises(CommandError, match="No application"):
        call_command("process_group", "--application-id", "0" * 24, "1")
    with pytest.raises(CommandError, match="No user group 99"):
        call_command(*run, "99")
    with pytest.raises(CommandError, match="is not a file"):
        call_command(*run, group.pk, "--file", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="none of the columns"):
        call_command(*run, group.pk, "--file", str(bad))
    out = io.StringIO()
    call_command(*run, group.pk, stdout=out)  # JSON-built: no file to process again
    assert "no file to process" in out.getvalue() and "1 members" in out.getvalue()
    assert Job.objects.count() == 1


def test_export_group_members_streams_every_member(application, people, tmp_path):
    group = services.create_group(application, {"name": "G", "description": "d", "user_data": [
        {"user_id": p.pk, "action": "add"} for p in people[:3]]}, SYSTEM)
    services.patch_group(application, group.pk, {"blacklisted_users": [people[1].pk],
                                                 "whitelisted_users": [people[3].pk]}, SYSTEM)
    out, err = io.StringIO(), io.StringIO()
    call_command("export_group_members", "--application-id", APP_ID, str(group.uid), stdout=out, stderr=err)
    lines = out.getvalue().splitlines()
    assert lines[0] == "user_id,email,phone_number,first_name,last_name"
    assert sorted(lines[1:]) == sorted(f"{p.pk},p{n}@example.com,+9198765000{n}0,p{n}," for n, p in
                                       enumerate(people) if n in (0, 2, 3))
    assert "3 members exported" in err.getvalue()
    target = tmp_path / "out.csv"
    call_command("export_group_members", "--application-id", APP_ID, group.pk, "--output", str(target),
                 stderr=io.StringIO())
    assert target.read_text().splitlines() == lines
    # what it wrote is a valid group file
    call_command("process_group", "--application-id", APP_ID, group.pk, "--file", str(target),
                 stdout=io.StringIO())
    assert members(group) == {people[0].pk, people[2].pk, people[3].pk}
    with pytest.raises(CommandError, match="No user group"):
        call_command("export_group_members", "--application-id", APP_ID, "0123456789abcdef01234567")
    assert UserGroup.objects.count() == 1
