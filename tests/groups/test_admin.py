"""The admin console's customer groups: created and changed through groups.services (same rules, errors on
the form), a CSV upload stored by the service and processed without a download, status / progress / error
file / members on the group's page, the members export, "process again", deletion, company scoping."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from attributes import services as attribute_services
from core import jobs
from core.actors import Actor
from core.jobs.models import Job
from groups import services
from groups.models import GroupMemberCount, Membership, UserGroup
from users import services as user_services

GROUPS = "/admin/customer_groups/usergroup/"
SYSTEM = Actor.system("test")


@pytest.fixture
def people(application):
    return [user_services.create_customer(application, {"phone_number": f"98765000{n}0", "first_name": f"p{n}",
                                                        "email": f"p{n}@example.com"}, SYSTEM) for n in range(4)]


def run_jobs():
    for job_id in Job.objects.filter(status=Job.PENDING).values_list("id", flat=True):
        jobs.run_job(job_id)


def form_errors(response) -> str:
    assert response.status_code == 200, (response.status_code, response.get("Location"))
    form = response.context["adminform"].form
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


def upload(text: str, name="members.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_staff_creates_a_group_from_an_uploaded_csv(staff_client, application, people):
    response = staff_client.post(f"{GROUPS}add/", {
        "application": application.id, "type": "bulk", "name": "Upload", "description": "From a file",
        "is_active": "on", "upload": upload("email\np0@example.com\nP1@example.com\nnobody@example.com\n"),
        "whitelisted_users": people[3].pk, "tags": "vip, q3"})
    assert response.status_code == 302, form_errors(response)
    group = UserGroup.objects.get()
    assert (group.type, group.uid, group.whitelisted_users, group.tags) == ("bulk", 1, [people[3].pk], ["vip", "q3"])
    assert group.file_url == f"jobs/{application.id}/{group.job_id}/upload.csv"  # the job's stored input
    assert group.job.payload["input_file"] == group.file_url and "file_url" not in group.job.payload
    assert group.created_by["type"] == "staff"
    run_jobs()  # no download: the stored upload is the job's input
    assert set(Membership.objects.filter(group=group).values_list("customer_id", flat=True)) == {
        people[0].pk, people[1].pk}

    page = staff_client.get(f"{GROUPS}{group.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "active" in html and "1 rejected rows (CSV)" in html and "/files/" in html
    assert "Members (3)" in html and "p3@example.com" in html and "uploaded file" in html
    assert page.context["members_total"] == 3
    listing = staff_client.get(GROUPS).content.decode()
    assert "Upload" in listing and "100 %" in listing

    export = staff_client.get(f"{GROUPS}{group.pk}/members.csv")
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert lines[0] == "user_id,email,phone_number,first_name,last_name"
    assert sorted(lines[1:]) == sorted(f"{p.pk},p{n}@example.com,+9198765000{n}0,p{n}," for n, p in
                                       enumerate(people) if n in (0, 1, 3))


def test_an_upload_without_the_columns_is_refused_on_the_form(staff_client, application):
    response = staff_client.post(f"{GROUPS}add/", {
        "application": application.id, "type": "bulk", "name": "Bad", "description": "d",
        "upload": upload("name\nAsha\n")})
    assert "none of the columns user_id, email or phone_number" in form_errors(response)
    assert not UserGroup.objects.exists() and not Job.objects.exists()


def test_staff_edits_adds_and_removes_by_upload_and_processes_again(staff_client, application, people):
    group = services.create_group(application, {"name": "G", "description": "d", "user_data": [
        {"user_id": people[0].pk, "action": "add"}, {"user_id": people[1].pk, "action": "add"}]}, SYSTEM)
    response = staff_client.post(f"{GROUPS}{group.pk}/change/", {
        "name": "Renamed", "description": "d2", "is_active": "", "blacklisted_users": "", "whitelisted_users": "",
        "tags": "", "file_url": "", "upload_mode": "patch",
        "upload": upload(f"user_id,action\n{people[0].pk},remove\n{people[2].pk},add\n")})
    assert response.status_code == 302, form_errors(response)
    group.refresh_from_db()
    assert (group.name, group.description, group.is_active, group.version) == ("Renamed", "d2", False, 2)
    run_jobs()
    assert set(Membership.objects.filter(group=group).values_list("customer_id", flat=True)) == {
        people[1].pk, people[2].pk}
    # "process the last file again": the stored upload, as it was given (add / remove)
    Membership.objects.filter(group=group).delete()
    response = staff_client.post(GROUPS, {"action": "process_again", "_selected_action": [group.pk]})
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.job.payload["mode"] == "patch" and group.job.status == "pending"
    assert group.job.payload["input_file"] == group.file_url
    run_jobs()
    assert set(Membership.objects.filter(group=group).values_list("customer_id", flat=True)) == {people[2].pk}


def test_the_form_shows_the_service_errors(staff_client, application, people):
    definition = attribute_services.create_definition(application, {"name": "Points", "type": "number"}, SYSTEM)
    response = staff_client.post(f"{GROUPS}add/", {
        "application": application.id, "type": "conditional", "name": "C", "description": "d",
        "conditions": f'[{{"user_attribute_definition_id": "{definition.pk}", "type": "cnt", "value": "1"}}]'})
    assert "does not apply" in form_errors(response)
    response = staff_client.post(f"{GROUPS}add/", {"application": application.id, "type": "bulk", "name": "B",
                                                   "description": "d"})
    assert "file_url is required" in form_errors(response)
    response = staff_client.post(f"{GROUPS}add/", {"application": application.id, "type": "conditional",
                                                   "name": "C", "description": "d", "conditions": "[nope"})
    assert "not valid JSON" in form_errors(response)
    response = staff_client.post(f"{GROUPS}add/", {
        "application": application.id, "type": "conditional", "name": "C", "description": "d",
        "conditions": f'[{{"user_attribute_definition_id": "{definition.pk}", "type": "gt", "value": "1"}}]',
        "blacklisted_users": "0123456789abcdef01234567"})
    assert "no customer 0123456789abcdef01234567" in form_errors(response)
    assert not UserGroup.objects.exists()
    response = staff_client.post(f"{GROUPS}add/", {
        "application": application.id, "type": "conditional", "name": "C", "description": "d",
        "conditions": f'[{{"user_attribute_definition_id": "{definition.pk}", "type": "gt", "value": "1"}}]'})
    assert response.status_code == 302, form_errors(response)
    group = UserGroup.objects.get()
    attribute_services.set_value(application, definition.pk, people[1].pk, 5, SYSTEM)
    page = staff_client.get(f"{GROUPS}{group.pk}/change/")
    assert page.context["members_total"] == 1 and "computed from the conditions" in page.content.decode()


def test_staff_see_only_their_company_and_deleting_removes_the_membership(staff_client, application, people,
                                                                            foreign_application):
    mine = services.create_group(application, {"name": "Mine", "description": "d", "user_data": [
        {"user_id": people[0].pk, "action": "add"}]}, SYSTEM)
    theirs = services.create_group(foreign_application, {"name": "Theirs", "description": "d", "user_data": [
        {"user_id": people[0].pk, "action": "add"}]}, SYSTEM)
    listing = staff_client.get(GROUPS).content.decode()
    assert "Mine" in listing and "Theirs" not in listing
    assert staff_client.get(f"{GROUPS}{theirs.pk}/change/").status_code == 302  # "doesn't exist"
    assert staff_client.get(f"{GROUPS}{theirs.pk}/members.csv").status_code == 404
    response = staff_client.post(f"{GROUPS}{mine.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not UserGroup.objects.filter(pk=mine.pk).exists()
    assert not Membership.objects.filter(group_id=mine.pk).exists()
    assert not GroupMemberCount.objects.filter(group_id=mine.pk).exists()
    assert UserGroup.objects.filter(pk=theirs.pk).exists()


@override_settings(GROUP_SYNC_LIMIT=0)
def test_a_refusal_at_write_time_is_a_form_error_and_nothing_is_written(staff_client, application, people):
    group = services.create_group(application, {"name": "Busy", "description": "d", "user_data": [
        {"user_id": people[0].pk, "action": "add"}]}, SYSTEM)
    assert group.job.status == Job.PENDING  # a change waits: the service refuses another one (409)
    response = staff_client.post(f"{GROUPS}{group.pk}/change/", {
        "name": "Renamed", "description": "d2", "is_active": "on", "blacklisted_users": "", "whitelisted_users": "",
        "tags": "new", "file_url": "https://example.com/other.csv", "upload_mode": "replace"})
    errors = form_errors(response)  # the form validated; services.update_group refused from save_model
    assert "processing a change" in errors
    assert response.context["adminform"].form["name"].value() == "Renamed"  # the input is shown again
    group.refresh_from_db()
    assert (group.name, group.description, group.tags, group.version, group.file_url) == ("Busy", "d", [], 0, "")
    assert Job.objects.count() == 1
