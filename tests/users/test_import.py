"""Customer import (bulkImportStoreFrontUsers, getBulkImportUsersList): CSV and XLSX files, the matching
rule, per-row errors, bad files, scopes and applications, the admin upload and manage.py import_customers."""

import csv
import io
import re
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone
from openpyxl import Workbook

from attributes import services as attribute_services
from attributes.models import UserAttribute
from attributes.selectors import value_of
from core import files, jobs
from core.actors import Actor
from core.tenancy import services as core_services
from core.tenancy.models import SCOPE_CUSTOMERS_READ
from core.jobs.models import Job, JobError
from tests import workers
from tests.file_server import serve_files
from tests.helpers import APP_ID, COMPANY_ID, assert_error
from users.models import ApplicationCustomerCount, AuditEvent, Customer, CustomerEmail, CustomerPhone
from users.services import create_customer
from users.transfers import imports

ACTOR = Actor.system("tests")
HEADER = "first_name,last_name,email,phone_number,country_code,gender,dob,external_id,username,meta"


pytestmark = pytest.mark.usefixtures("local_file_urls")  # FILE_URL_ALLOWED_HOSTS = ["localhost"]


def csv_bytes(*lines, header=HEADER) -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode()


def xlsx_bytes(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def start(api, url, body, status=200):
    response = api.post(url("users/jobs/import"), body, format="json")
    assert response.status_code == status, response.content
    return response.json()


def run_import(api, url, content: bytes, file_format="csv", name="customers.csv") -> Job:
    with serve_files({f"/{name}": content}) as base:
        data = start(api, url, {"absolute_url": f"{base}/{name}", "relative_url": f"uploads/{name}",
                                "file_format": file_format})
        assert data["status"] == "pending" and data["action_type"] == "import"
        assert data["file_name"] == name and data["file_format"] == file_format
        jobs.run_job(data["_id"])
    return Job.objects.get(pk=data["_id"])


def errors_of(job) -> list:
    return list(JobError.objects.filter(job=job).order_by("row_number").values_list("row_number", "reference", "message"))


def customer_by_email(application, email) -> Customer:
    return Customer.objects.get(application=application, emails__email=email)


# --------------------------------------------------------------------------- creating and updating


def test_a_csv_creates_customers_with_createusers_rules(api, url, application):
    job = run_import(api, url, csv_bytes(
        'Asha,Rao,Asha@Example.com,9876543210,91,female,1990-05-17,ext-1,asha,"{""tier"": ""gold""}"',
        "Ravi,,ravi@example.com,+1 650 253 0000,,male,,,,",
        ",,,9876500001,,,,,,",
    ))
    assert (job.status, job.total, job.processed, job.success_count, job.error_count) == ("completed", 3, 3, 3, 0)
    asha = customer_by_email(application, "asha@example.com")
    assert (asha.first_name, asha.last_name, asha.gender, str(asha.dob), asha.external_id, asha.username, asha.meta) == (
        "Asha", "Rao", "female", "1990-05-17", "ext-1", "asha", {"tier": "gold"})
    assert [(p.e164, p.primary) for p in asha.phones.all()] == [("+919876543210", True)]
    assert [(e.email, e.primary) for e in asha.emails.all()] == [("asha@example.com", True)]
    ravi = customer_by_email(application, "ravi@example.com")
    assert ravi.phones.get().e164 == "+16502530000" and ravi.username.startswith("ravi_")
    phone_only = CustomerPhone.objects.get(e164="+919876500001").customer
    assert phone_only.emails.count() == 0 and phone_only.username.startswith("9876500001_")
    assert ApplicationCustomerCount.objects.get(application=application).total == 3
    events = AuditEvent.objects.filter(customer_id=asha.id)
    assert [(e.action, e.actor_name, e.data["source"], e.data["job_id"]) for e in events] == [
        ("customer.created", "test client", "import", job.pk)]
    # file order is creation order: getCustomers lists the last row first
    listed = api.get(url("customers/list")).json()["items"]
    assert [c["phone_numbers"][0]["phone"] for c in listed] == ["9876500001", "6502530000", "9876543210"]


def test_rows_matching_by_email_or_phone_update_those_customers(api, url, application):
    by_email = create_customer(application, {"phone_number": "9876543210", "email": "asha@example.com",
                                             "first_name": "Asha", "last_name": "Old"}, ACTOR)
    by_phone = create_customer(application, {"phone_number": "9876543211", "first_name": "Ravi"}, ACTOR)
    job = run_import(api, url, csv_bytes(
        "Asha,New,ASHA@example.com,,,,,,,",  # matched by email, no phone given
        ",,ravi@example.com,9876543211,,male,,,other_name,",  # matched by phone: the email is added
        "Asha,New,asha@example.com,9876543210,,,,,,",  # matched by both: nothing changes now
    ))
    assert (job.status, job.success_count, job.error_count) == ("completed", 3, 0)
    assert Customer.objects.filter(application=application).count() == 2
    by_email.refresh_from_db()
    by_phone.refresh_from_db()
    assert (by_email.first_name, by_email.last_name, by_email.version) == ("Asha", "New", 1)
    assert (by_phone.gender, by_phone.username) == ("male", by_phone.username)  # usernames never change
    assert [(e.email, e.primary) for e in by_phone.emails.all()] == [("ravi@example.com", True)]
    updates = AuditEvent.objects.filter(action="customer.updated").order_by("id")
    assert [sorted(e.data["changed"]) for e in updates] == [["last_name"], ["email_added", "gender"]]


def test_a_new_phone_of_a_customer_found_by_email_is_added_not_primary(api, url, application):
    asha = create_customer(application, {"phone_number": "9876543210", "email": "asha@example.com"}, ACTOR)
    job = run_import(api, url, csv_bytes("Asha,,asha@example.com,9876543299,,,,,,"))
    assert job.status == "completed"
    assert [(p.e164, p.primary) for p in asha.phones.order_by("id")] == [("+919876543210", True),
                                                                      ("+919876543299", False)]


def test_the_jobs_summary_event_links_to_the_customers_it_created_or_changed(api, url, client, application):
    from users import eventlog

    untouched = create_customer(application, {"phone_number": "9876543219", "first_name": "Meera"}, ACTOR)
    kept = create_customer(application, {"phone_number": "9876543210", "email": "asha@example.com",
                                         "first_name": "Asha", "last_name": "Old"}, ACTOR)
    job = run_import(api, url, csv_bytes("Asha,New,asha@example.com,,,,,,,", "Ravi,,ravi@example.com,9876543212,,,,,,"))
    ravi = customer_by_email(application, "ravi@example.com")
    eventlog.sequence_all()
    summary = AuditEvent.objects.get(action="job.completed")
    assert summary.request_id == f"job-{job.pk}" and summary.published
    assert not AuditEvent.objects.filter(request_id=f"job-{job.pk}", customer_id=ravi.pk, published=True).exists()

    answer = client.get(summary.data["links"]["customers"])  # a signed link: no credentials
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(answer.streaming_content).decode())))
    assert sorted((r["customer_id"], r["type"]) for r in rows) == sorted([(kept.pk, "customer.updated"),
                                                                          (ravi.pk, "customer.created")])
    assert untouched.pk not in {r["customer_id"] for r in rows}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["occurred_at"]) for r in rows)  # as events

    token = summary.data["links"]["customers"].split("/files/jobs/")[1].split("/")[0]
    refused = client.get(f"/files/jobs/{token[:-2]}xx/customers.csv")
    assert refused.status_code == 404 and refused.json()["code"] == "link_invalid"
    with override_settings(FILE_LINK_TTL_SECONDS=-1):
        from users import job_customers

        expired = job_customers.signed_link(job).split("/files/")[1]
    assert client.get(f"/files/{expired}").status_code == 404


def test_rows_repeating_a_customer_in_one_file_apply_in_order(api, url, application):
    job = run_import(api, url, csv_bytes(
        "Asha,One,asha@example.com,9876543210,,,,,,",
        "Asha,Two,asha@example.com,,,,,,,",  # same chunk: updates the customer the first row created
        ",,other@example.com,9876543210,,,,,,",  # same phone: the email is added to that customer
        "Ravi,,ravi@example.com,9876543211,,,,,ravi,",
        "Ravi,,ravi2@example.com,9876543212,,,,,RAVI,",  # the username is taken by the row above
    ))
    assert (job.status, job.success_count, job.error_count) == ("completed_with_errors", 4, 1)
    asha = customer_by_email(application, "asha@example.com")
    assert asha.last_name == "Two" and sorted(asha.emails.values_list("email", flat=True)) == [
        "asha@example.com", "other@example.com"]
    assert errors_of(job) == [(6, "ravi2@example.com",
                               "Username 'RAVI' is already used by another customer of this application.")]
    assert Customer.objects.count() == 2


@override_settings(CUSTOMER_IMPORT_CHUNK_SIZE=2)
def test_bad_rows_are_reported_and_the_others_imported(api, url, application):
    other = create_customer(application, {"phone_number": "9876543299", "email": "taken@example.com"}, ACTOR)
    create_customer(application, {"phone_number": "9876543298", "email": "mine@example.com"}, ACTOR)
    job = run_import(api, url, csv_bytes(
        "Good,,good@example.com,9876543210,,,,,,",
        "Bad,,not-an-email,12,,,,,,",
        ",,,,,,,,,",  # blank: skipped, not a row
        "Nobody,,,,,,,,,",
        "Both,,taken@example.com,9876543298,,,,,,",  # email of one customer, phone of another
        "NoPhone,,new@example.com,,,,,,,",
        "Dob,,dob@example.com,9876543211,,,1990-13-01,,,",
        "Meta,,meta@example.com,9876543212,,,,,,[1]",
        "Long," + "x" * 101 + ",long@example.com,9876543213,,,,,,",
        "Code,,code@example.com,9876543214,999,,,,,",
    ))
    assert (job.status, job.total, job.processed, job.success_count, job.error_count) == (
        "completed_with_errors", 9, 9, 1, 8)
    found = {row: (reference, message) for row, reference, message in errors_of(job)}
    assert set(found) == {3, 5, 6, 7, 8, 9, 10, 11}
    assert "not a valid email" in found[3][1] and "not a valid phone number" in found[3][1]
    assert found[5] == ("", "the row has neither an email nor a phone_number.")
    assert found[6][0] == "taken@example.com" and other.id in found[6][1] and "another customer" in found[6][1]
    assert "phone_number is required to create a customer" in found[7][1]
    assert "dob:" in found[8][1] and "meta:" in found[9][1] and "last_name: must be at most 100" in found[10][1]
    assert "999 is not a known country calling code" in found[11][1]
    assert Customer.objects.filter(application=application).count() == 3
    report = api.get(url(f"users/jobs/{job.pk}")).json()
    assert report["count"] == {"total": 9, "success": 1, "error": 8}
    error_file = report["links"]["error"]
    assert error_file["relative_url"].endswith("/errors.csv")
    content = api.get(error_file["absolute_url"]).getvalue().decode()
    assert list(csv.reader(io.StringIO(content)))[0] == ["row", "reference", "error"]


def test_attribute_slug_columns_set_attribute_values(api, url, application):
    attribute_services.create_definition(application, {"name": "Tier", "type": "string",
                                             "validations": [{"type": "enum", "value": ["gold", "silver"]}]}, ACTOR)
    attribute_services.create_definition(application, {"name": "Points", "type": "number"}, ACTOR)
    attribute_services.create_definition(application, {"name": "Tags", "type": "string", "multi_value": True}, ACTOR)
    existing = create_customer(application, {"phone_number": "9876543212"}, ACTOR)
    job = run_import(api, url, csv_bytes(
        'a@example.com,9876543210,gold,10,"[""x"", ""y""]"',
        "b@example.com,9876543211,bronze,1,",
        ",9876543212,silver,,",
        header="email,phone_number,TIER,points,tags"))
    assert (job.status, job.success_count, job.error_count) == ("completed_with_errors", 2, 1)
    assert "Attribute 'tier'" in errors_of(job)[0][2]
    assert not Customer.objects.filter(emails__email="b@example.com").exists()
    values = {(a.customer_id, a.definition.slug): value_of(a) for a in UserAttribute.objects.select_related("definition")}
    a = customer_by_email(application, "a@example.com")
    assert values == {(a.id, "tier"): "gold", (a.id, "points"): 10, (a.id, "tags"): ["x", "y"],
                      (existing.id, "tier"): "silver"}


# --------------------------------------------------------------------------- XLSX


def test_an_xlsx_workbook_imports_like_a_csv(api, url, application):
    content = xlsx_bytes([
        ["first_name", "email", "phone_number", "country_code", "dob"],
        ["Asha", "asha@example.com", 9876543210, 91, date(1990, 5, 17)],
        [],
        ["Ravi", "ravi@example.com", "9876543211", None, None],
        ["Bad", "bad", "1", None, None],
    ])
    job = run_import(api, url, content, "xlsx", "people.xlsx")
    assert (job.status, job.total, job.success_count, job.error_count) == ("completed_with_errors", 3, 2, 1)
    assert errors_of(job)[0][:2] == (5, "bad")  # the sheet's own row number
    asha = customer_by_email(application, "asha@example.com")
    assert (asha.phones.get().e164, str(asha.dob)) == ("+919876543210", "1990-05-17")


# --------------------------------------------------------------------------- bad files and requests


@pytest.mark.parametrize("content,file_format,fragment", [
    (b"email,first_name\na@b.com,A\n", "csv", "no phone_number column"),
    (b"phone_number,emial\n9876543210,a@b.com\n", "csv", "unknown column(s) emial"),
    (b"", "csv", "empty"),
    (b"phone_number\n\xff\xfe\n", "csv", "not UTF-8"),
    (b'phone_number,email\n"9876543210,a@b.com\n', "csv", "not valid CSV"),
    (b"phone_number\n9876543210\n", "xlsx", "not an XLSX workbook"),
    (b"PK\x03\x04 not really a zip", "xlsx", "not an XLSX workbook"),
    ("xlsx", "csv", "is an XLSX workbook"),
])
def test_a_bad_file_fails_the_job_with_the_reason_and_imports_nothing(api, url, application, content, file_format,
                                                                      fragment):
    if content == "xlsx":
        content = xlsx_bytes([["phone_number"], ["9876543210"]])
    job = run_import(api, url, content, file_format)
    assert job.status == "failed" and fragment in job.error, job.error
    assert not Customer.objects.exists()
    assert fragment in api.get(url(f"users/jobs/{job.pk}")).json()["error"]


def test_an_unreachable_file_fails_the_job(api, url):
    with serve_files({}) as base:
        data = start(api, url, {"absolute_url": f"{base}/missing.csv", "relative_url": "", "file_format": "csv"})
        jobs.run_job(data["_id"])
    job = Job.objects.get(pk=data["_id"])
    assert job.status == "failed" and "HTTP 404" in job.error


@pytest.mark.parametrize("body,status,fragment", [
    ({"absolute_url": "http://localhost:9/a.csv", "relative_url": "", "file_format": "pdf"}, 400, "file_format"),
    ({"absolute_url": "http://localhost:9/a.csv", "relative_url": ""}, 400, "file_format"),
    ({"absolute_url": "", "relative_url": "", "file_format": "csv"}, 400, "absolute_url"),
    ({"absolute_url": "http://10.0.0.5/a.csv", "relative_url": "", "file_format": "csv"}, 400, "private"),
    ({"absolute_url": "ftp://example.com/a.csv", "relative_url": "", "file_format": "csv"}, 400, "http"),
    ([1], 400, "JSON object"),
])
def test_bad_import_requests_are_400_and_start_nothing(api, url, body, status, fragment):
    with override_settings(FILE_URL_ALLOWED_HOSTS=[]):
        assert_error(api.post(url("users/jobs/import"), body, format="json"), status, fragment)
    assert not Job.objects.exists()


def test_import_needs_the_write_scope_and_jobs_stay_in_their_application(make_client, api, url, application,
                                                                         other_application, foreign_application):
    reader = make_client(scopes=[SCOPE_CUSTOMERS_READ])
    body = {"absolute_url": "http://localhost:9/a.csv", "relative_url": "", "file_format": "csv"}
    assert_error(reader.post(url("users/jobs/import"), body, format="json"), 403, "scope")
    job = start(api, url, body)
    assert reader.get(url(f"users/jobs/{job['_id']}")).status_code == 200
    assert_error(api.get(url(f"users/jobs/{job['_id']}", application_id=other_application.id)), 404)
    assert api.get(url("users/jobs/import", application_id=other_application.id)).json()["items"] == []
    foreign = make_client(company_id=777)
    assert_error(foreign.get(url("users/jobs/import")), 403)
    assert_error(foreign.get(url("users/jobs/import", company_id=777, application_id=application.id)), 404)


def test_our_own_download_link_is_read_from_storage(api, url, application, other_application):
    name = files.save_file(f"jobs/{other_application.id}/x/people.csv", csv_bytes("A,,a@example.com,9876543210,,,,,,"))
    link = files.signed_url(name)
    with override_settings(FILE_URL_ALLOWED_HOSTS=[]):  # no HTTP request is made
        data = start(api, url, {"absolute_url": link, "relative_url": "", "file_format": "csv"})
    assert data["file_name"] == data["file_name"] and Job.objects.get(pk=data["_id"]).payload["stored_file"] == name
    jobs.run_job(data["_id"])
    assert Job.objects.get(pk=data["_id"]).status == "completed"
    assert customer_by_email(application, "a@example.com")


# --------------------------------------------------------------------------- listing import jobs


def test_import_jobs_are_listed_filtered_and_paginated(api, url, application):
    for name in ("alpha.csv", "beta.csv", "gamma.xlsx"):
        start(api, url, {"absolute_url": f"http://localhost:9/{name}", "relative_url": name,
                         "file_format": name.rsplit(".", 1)[1]})
    Job.objects.filter(file_name="alpha.csv").update(status="completed",
                                                     created_at=timezone.now() - timedelta(days=3))
    listed = api.get(url("users/jobs/import"), {"page_size": 2}).json()
    assert [j["file_name"] for j in listed["items"]] == ["gamma.xlsx", "beta.csv"]
    assert listed["page"] == {"type": "number", "current": 1, "size": 2, "item_total": 3, "has_next": True}

    def names(**params):
        response = api.get(url("users/jobs/import"), params)
        assert response.status_code == 200, response.content
        return [j["file_name"] for j in response.json()["items"]]

    assert names(search="ALP") == ["alpha.csv"]
    assert names(file_format="xlsx") == ["gamma.xlsx"]
    assert names(status="completed") == ["alpha.csv"]
    assert names(status="pending,failed") == ["gamma.xlsx", "beta.csv"]
    today = timezone.now().date()
    assert names(start_date=str(today)) == ["gamma.xlsx", "beta.csv"]
    assert names(end_date=str(today - timedelta(days=1))) == ["alpha.csv"]
    assert names(end_date=str(today)) == ["gamma.xlsx", "beta.csv", "alpha.csv"]
    assert_error(api.get(url("users/jobs/import"), {"status": "done"}), 400, "status")
    assert_error(api.get(url("users/jobs/import"), {"start_date": "yesterday"}), 400, "start_date")
    assert_error(api.get(url("users/jobs/import"), {"end_date": "2024-13-01"}), 400, "end_date must be a date")
    assert_error(api.get(url("users/jobs/import"), {"file_format": "pdf"}), 400, "file_format must be csv or xlsx.",
                 code="invalid_file_format")
    assert_error(api.get(url("users/jobs/import"), {"search": "a\x00b"}), 400, "search must not contain NUL")
    assert names(status="completed", search="alpha", end_date=str(today)) == ["alpha.csv"]
    assert api.get(url("users/jobs/export")).json()["items"] == []


# --------------------------------------------------------------------------- admin upload and command


@pytest.mark.django_db(transaction=True)
def test_command_imports_a_local_file_through_the_same_job(tmp_path, capsys):
    application, _ = core_services.create_application(company_id=COMPANY_ID, name="Demo", application_id=APP_ID)
    source = tmp_path / "people.csv"
    source.write_bytes(csv_bytes(*[f"P{n},,p{n}@example.com,98765{n:05d},,,,,," for n in range(30)], "X,,bad,1,,,,,,"))
    call_command("import_customers", str(source), "--application-id", APP_ID)
    out = capsys.readouterr().out
    assert "completed_with_errors: 30 imported, 1 errors" in out and "/files/" in out
    job = Job.objects.get()
    assert (job.kind, job.file_name, job.created_by["name"], job.created_by["type"]) == (
        "customer_import", "people.csv", "manage.py import_customers", "system")
    assert Customer.objects.filter(application=application).count() == 30
    with pytest.raises(CommandError, match="is not a file"):
        call_command("import_customers", str(tmp_path / "missing.csv"), "--application-id", APP_ID)
    with pytest.raises(CommandError, match="csv or xlsx"):
        call_command("import_customers", str(source), "--application-id", APP_ID, "--format", "pdf")
    with pytest.raises(CommandError, match="No application"):
        call_command("import_customers", str(source), "--application-id", "0" * 24)


# --------------------------------------------------------------------------- a real worker, killed


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_resumes_the_import_to_the_state_of_one_clean_run(media, tmp_path, monkeypatch):
    application, _ = core_services.create_application(company_id=COMPANY_ID, name="Demo", application_id=APP_ID)
    for n in range(0, 400, 20):  # every 20th row updates an existing customer (found by phone)
        create_customer(application, {"phone_number": f"98{n:08d}", "first_name": "Before"}, ACTOR)
    lines = [f"P{n},Last,p{n}@example.com,98{n:08d},,,,,," for n in range(400)]
    lines.insert(200, "Bad,,bad,1,,,,,,")  # row 202: one error
    job = imports.start_import_of_file(application, ACTOR, io.BytesIO(csv_bytes(*lines)), "people.csv",
                                       enqueue=False)

    queue, log = workers.private_queue(monkeypatch), tmp_path / "worker.log"
    env = workers.worker_env(media, CUSTOMER_IMPORT_CHUNK_SIZE=4)
    workers.kill_midway(job.pk, env, queue, log, when=lambda j: j.processed >= 40, what="40 rows done")

    killed = Job.objects.get(pk=job.pk)
    assert killed.status == "processing" and 40 <= killed.processed < 401, killed.processed
    # Exactly whole chunks were committed: customers, audit events, counters and checkpoint agree.
    assert killed.checkpoint == {"done": killed.processed} and killed.processed % 4 == 0
    created = Customer.objects.count() - 20
    updated = Customer.objects.filter(first_name__startswith="P", version=1).count()
    assert created + updated == killed.success_count
    assert AuditEvent.objects.filter(data__source="import").count() == killed.success_count

    workers.resume_in_new_worker(job.pk, env, queue, log)

    done = Job.objects.get(pk=job.pk)
    assert (done.status, done.total, done.processed, done.success_count, done.error_count, done.attempts) == (
        "completed_with_errors", 401, 401, 400, 1, 2)
    assert [e[:2] for e in errors_of(done)] == [(202, "bad")]
    # every customer once: none created twice, none lost, each updated once
    assert Customer.objects.count() == 400 == ApplicationCustomerCount.objects.get(application=application).total
    assert CustomerPhone.objects.count() == 400 and CustomerEmail.objects.count() == 400
    assert set(Customer.objects.values_list("last_name", flat=True)) == {"Last"}
    assert Customer.objects.filter(version=1).count() == 20 and Customer.objects.filter(version__gt=1).count() == 0
    assert AuditEvent.objects.filter(data__source="import", action="customer.created").count() == 380
    assert AuditEvent.objects.filter(data__source="import", action="customer.updated").count() == 20


def test_admin_upload_form_starts_an_import_of_the_stored_file(client, application, foreign_application):
    staff = core_services.create_staff_user(company_id=application.company_id, username="alice",
                                            password="a long passphrase 123")
    client.force_login(staff)
    listing = client.get("/admin/core/job/")
    assert listing.status_code == 200 and "Import customers" in listing.content.decode()
    form = client.get("/admin/users/customer/import/").content.decode()
    assert application.id in form and foreign_application.id not in form  # only the company's applications
    upload = SimpleUploadedFile("people.csv", csv_bytes("A,,a@example.com,9876543210,,,,,,", "B,,bad,1,,,,,,"))
    response = client.post("/admin/users/customer/import/", {"application": application.id, "file": upload})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/admin/core/job/{job.pk}/change/")
    assert (job.kind, job.file_name, job.file_format, job.created_by["name"]) == (
        "customer_import", "people.csv", "csv", "alice")
    assert job.payload["stored_file"] == f"jobs/{application.id}/{job.pk}/upload.csv"
    jobs.run_job(job.pk)
    job.refresh_from_db()
    assert (job.status, job.success_count, job.error_count) == ("completed_with_errors", 1, 1)
    page = client.get(f"/admin/core/job/{job.pk}/change/").content.decode()
    assert "error file" in page and "/files/" in page and "not a valid email" in page
    assert "error file" in client.get("/admin/core/job/").content.decode()
    bad = client.post("/admin/users/customer/import/", {"application": foreign_application.id, "file": upload})
    assert bad.status_code == 200 and Job.objects.count() == 1
    wrong = client.post("/admin/users/customer/import/", {
        "application": application.id, "file": SimpleUploadedFile("people.pdf", b"x")})
    assert "file_format must be csv or xlsx" in wrong.content.decode() and Job.objects.count() == 1
