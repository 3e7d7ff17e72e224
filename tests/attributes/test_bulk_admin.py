"""The admin console's "Bulk update attributes" (attributes/admin_bulk.py): an uploaded CSV of user ids and
slug=value lines start the API's attribute_bulk_update job; a real Celery worker runs it; errors on the form;
the company's applications only; read-only staff get 403."""

import signal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from attributes import services
from attributes.models import UserAttribute
from attributes.selectors import value_of
from core import jobs
from core.actors import Actor
from core.jobs.models import Job, JobError
from core.tenancy import services as core_services
from tests import workers
from tests.helpers import APP_ID, COMPANY_ID
from users.models import AuditEvent
from users.services import archive_customer, create_customer

BULK = "/admin/attributes/userattribute/bulk-update/"
JOBS = "/admin/core/job/"
PASSWORD = "Adm1n-console-pass!"
ACTOR = Actor.system("tests")


def make_definitions(application):
    tier = services.create_definition(application, {"name": "Tier", "type": "string",
                                                    "validations": [{"type": "enum", "value": ["gold", "silver"]}]},
                                      ACTOR)
    points = services.create_definition(application, {"name": "Points", "type": "number"}, ACTOR)
    return tier, points


def make_people(application, count, start=0):
    return [create_customer(application, {"phone_number": f"98765{start + n:05d}"}, ACTOR).id for n in range(count)]


def user_file(*ids, column="user_id", name="people.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ("\n".join([f"{column},note", *[f"{i},x" for i in ids]]) + "\n").encode())


def values(definition, customer_ids) -> list:
    found = {a.customer_id: value_of(a) for a in UserAttribute.objects.filter(definition=definition)}
    return [found.get(c) for c in customer_ids]


@pytest.fixture
def full_staff(application):
    return core_services.create_staff_user(company_id=COMPANY_ID, username="staff559", password=PASSWORD)


# --------------------------------------------------------------------------- a real worker runs it

@pytest.mark.django_db(transaction=True)
def test_bulk_form_starts_the_apis_job_and_a_worker_sets_the_values(client, media, tmp_path, monkeypatch):
    application, _ = core_services.create_application(company_id=COMPANY_ID, name="Demo Store", application_id=APP_ID)
    second, _ = core_services.create_application(company_id=COMPANY_ID, name="Second Store")
    foreign, _ = core_services.create_application(company_id=777, name="Foreign Store")
    tier, points = make_definitions(application)
    people = make_people(application, 4)
    archive_customer(application, people[3], ACTOR)
    elsewhere = make_people(second, 1, start=50)
    staff = core_services.create_staff_user(company_id=COMPANY_ID, username="staff559", password=PASSWORD)
    client.force_login(staff)

    listing = client.get(JOBS).content.decode()
    assert f'href="{BULK}"' in listing and "Bulk update attributes" in listing
    form = client.get(BULK)
    assert form.status_code == 200
    page = form.content.decode()
    assert application.id in page and second.id in page and foreign.id not in page
    assert "<code>tier</code>" in page and "<code>points</code>" in page  # the definitions to name

    queue, log = workers.private_queue(monkeypatch), tmp_path / "worker.log"
    upload = user_file(*people[:3], people[3], elsewhere[0], "nobody")
    response = client.post(BULK, {"application": application.id, "file": upload,
                                  "attributes": "tier=gold\npoints=12\n"})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{JOBS}{job.pk}/change/"
    assert (job.kind, job.application_id, job.file_name, job.status, job.created_by["name"]) == (
        "attribute_bulk_update", application.id, "people.csv", "pending", "staff559")
    assert job.payload["attributes"] == [["tier", "gold"], ["points", 12]]
    assert job.payload["input_file"] == f"jobs/{application.id}/{job.pk}/users.csv"
    assert 'data-active="true"' in client.get(response["Location"]).content.decode()

    worker = workers.start_worker(workers.worker_env(media), queue, log)
    try:
        workers.wait_for(lambda: Job.objects.get(pk=job.pk).status not in Job.ACTIVE, "the bulk update", log)
    finally:
        workers.stop(worker, signal.SIGTERM)

    data = client.get(f"{JOBS}{job.pk}/progress/").json()
    assert (data["status"], data["total"], data["processed"], data["success_count"], data["error_count"]) == (
        "completed_with_errors", 6, 6, 3, 3)
    assert values(tier, people) == ["gold", "gold", "gold", None]
    assert values(points, people) == [12, 12, 12, None]
    assert not UserAttribute.objects.filter(customer_id=elsewhere[0]).exists()  # another application's customer
    assert set(JobError.objects.filter(job=job).values_list("reference", flat=True)) == {
        people[3], elsewhere[0], "nobody"}
    assert [d["label"] for d in data["downloads"]] == ["error file"]
    assert client.get(data["downloads"][0]["url"]).status_code == 200
    event = AuditEvent.objects.filter(customer_id=people[0]).exclude(action="customer.created").first()
    assert event is not None and event.actor_type == "staff" and event.actor_name == "staff559"


# --------------------------------------------------------------------------- the form's errors

def test_bulk_form_errors_start_nothing(full_staff, client, application, foreign_application):
    tier, _ = make_definitions(application)
    people = make_people(application, 2)
    client.force_login(full_staff)

    def post(**fields):
        response = client.post(BULK, {"application": application.id, "attributes": "tier=gold", **fields})
        assert response.status_code == 200
        return response

    no_file = post()
    assert no_file.context["form"].errors["file"] == ["This field is required."]
    wrong = post(file=SimpleUploadedFile("people.xlsx", b"PK\x03\x04"))
    assert "must be a CSV" in wrong.context["form"].errors["file"][0]
    no_column = post(file=user_file(*people, column="email"))
    assert "no user_id column" in no_column.context["form"].errors["file"][0]
    empty = post(file=SimpleUploadedFile("people.csv", b""))
    assert "is empty" in empty.context["form"].errors["file"][0]
    not_utf8 = post(file=SimpleUploadedFile("people.csv", "user_id,name\nx,Ren\xe9e\n".encode("latin-1")))
    assert "not UTF-8" in not_utf8.context["form"].errors["file"][0]
    no_attributes = post(file=user_file(*people), attributes="  \n")
    assert "attributes" in no_attributes.context["form"].errors

    # The attributes are checked as the API checks them: the service's message on the form.
    def refusal(response) -> str:
        assert 'class="errornote"' in response.content.decode()
        return " ".join(response.context["form"].non_field_errors())

    assert "no attribute definition with slug 'nope'" in refusal(post(file=user_file(*people), attributes="nope=1"))
    assert "must be one of gold, silver" in refusal(post(file=user_file(*people), attributes="tier=bronze"))
    assert "write slug=value" in refusal(post(file=user_file(*people), attributes="tier"))

    foreign = client.post(BULK, {"application": foreign_application.id, "attributes": "tier=gold",
                                 "file": user_file(*people)})
    assert foreign.status_code == 200 and "Select a valid choice" in foreign.context["form"].errors["application"][0]
    assert Job.objects.count() == 0 and not UserAttribute.objects.exists()


def test_bulk_form_with_an_id_column_runs_in_process(full_staff, client, application):
    tier, _ = make_definitions(application)
    people = make_people(application, 3)
    client.force_login(full_staff)
    response = client.post(BULK, {"application": application.id, "file": user_file(*people, column="_id"),
                                  "attributes": "TIER=silver"})
    assert response.status_code == 302
    job = Job.objects.get()
    jobs.run_job(job.pk)
    job.refresh_from_db()
    assert (job.status, job.success_count, job.error_count) == ("completed", 3, 0)
    assert values(tier, people) == ["silver"] * 3


def test_read_only_staff_cannot_start_a_bulk_update(client, application):
    make_definitions(application)
    people = make_people(application, 1)
    auditor = core_services.create_staff_user(company_id=COMPANY_ID, username="auditor559", password=PASSWORD,
                                              role="read_only")
    client.force_login(auditor)
    assert client.get(BULK).status_code == 403
    response = client.post(BULK, {"application": application.id, "attributes": "tier=gold", "file": user_file(*people)})
    assert response.status_code == 403
    assert "Bulk update attributes" not in client.get(JOBS).content.decode()
    assert Job.objects.count() == 0 and not UserAttribute.objects.exists()
