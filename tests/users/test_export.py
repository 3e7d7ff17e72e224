"""Customer export (createBulkExportUsers, getBulkExportUsersList): CSV and XLSX files of every live customer,
streamed in pages; the round trip (export, import into another application, same customers); the command."""

import csv
import io

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.test import override_settings
from openpyxl import load_workbook
from rest_framework.test import APIClient

from core import jobs
from core.actors import Actor
from core.api.pagination import PageRequest
from core.tenancy import services as core_services
from core.tenancy.models import SCOPE_CUSTOMERS_READ
from core.jobs.models import Job
from tests.file_server import serve_files
from tests.helpers import APP_ID, COMPANY_ID, assert_error
from users import services
from users.models import Customer
from users.selectors import list_customers
from users.transfers.exports import HEADER

ACTOR = Actor.system("tests")


pytestmark = pytest.mark.usefixtures("local_file_urls")  # FILE_URL_ALLOWED_HOSTS = ["localhost"]


@pytest.fixture
def people(application):
    made = []
    for n in range(7):
        made.append(services.create_customer(application, {
            "phone_number": f"98765{n:05d}", "email": f"person{n}@example.com" if n != 3 else "",
            "first_name": ["Asha", "=1+1", "Ravi, Jr.", 'Quo"te', "Ünïcode", "Line\nbreak", ""][n],
            "last_name": "Rao", "gender": "female" if n % 2 else "", "external_id": f"ext-{n}" if n < 2 else "",
            "meta": {"n": n} if n == 0 else {}}, ACTOR))
    Customer.objects.filter(pk=made[0].pk).update(dob="1990-05-17")
    services.set_customers_active(application, [made[2].id], False, "fraud", ACTOR)
    services.archive_customer(application, made[6].id, ACTOR)  # archived: never exported
    return made


def export(api, url, file_format="csv") -> tuple[Job, dict]:
    response = api.post(url("users/jobs/export"), {"file_format": file_format}, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["status"], data["action_type"], data["file_format"], data["links"]) == (
        "pending", "export", file_format, {})
    assert data["file_name"].startswith("customers_") and data["file_name"].endswith(f".{file_format}")
    jobs.run_job(data["_id"])
    report = api.get(url(f"users/jobs/{data['_id']}")).json()
    return Job.objects.get(pk=data["_id"]), report


def download(api, report) -> bytes:
    link = report["links"]["file"]["absolute_url"]
    response = api.get(link)
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def read_xlsx(content: bytes) -> list[list]:
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    return [list(row) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)]


def profile(customer: Customer) -> tuple:
    return (customer.first_name, customer.last_name, customer.gender, customer.dob, customer.external_id,
            customer.username, customer.meta, customer.active,
            [(e.email, e.primary) for e in customer.emails.order_by("-primary", "id")],
            [(p.e164, p.primary) for p in customer.phones.order_by("-primary", "id")])


@override_settings(CUSTOMER_EXPORT_PAGE_SIZE=2)
def test_a_csv_export_holds_every_live_customer_oldest_first(api, url, application, people):
    job, report = export(api, url)
    assert (job.status, job.total, job.processed, job.success_count, report["count"]) == (
        "completed", 6, 6, 6, {"total": 6, "success": 6, "error": 0})
    assert report["links"]["file"]["relative_url"] == f"jobs/{application.id}/{job.pk}/{job.file_name}"
    rows = list(csv.reader(io.StringIO(download(api, report).decode())))
    assert rows[0] == list(HEADER)
    assert [r[0] for r in rows[1:]] == [p.id for p in people[:6]]
    first = dict(zip(HEADER, rows[1]))
    assert {k: first[k] for k in ("first_name", "email", "phone_number", "country_code", "dob", "external_id",
                                  "meta", "active")} == {
        "first_name": "Asha", "email": "person0@example.com", "phone_number": "9876500000", "country_code": "91",
        "dob": "1990-05-17", "external_id": "ext-0", "meta": '{"n": 0}', "active": "true"}
    assert rows[3][HEADER.index("active")] == "false" and rows[4][HEADER.index("email")] == ""
    assert rows[6][HEADER.index("first_name")] == "Line\nbreak"


def _stored(folder: str) -> list:
    try:
        return [f"{folder}/{name}" for name in default_storage.listdir(folder)[1]]
    except FileNotFoundError:
        return []


def test_an_xlsx_export_has_typed_cells_and_never_formulas(api, url, application, people):
    job, report = export(api, url, "xlsx")
    assert job.status == "completed" and job.result_file.endswith(".xlsx")
    rows = read_xlsx(download(api, report))
    assert rows[0] == list(HEADER) and len(rows) == 7
    first = dict(zip(HEADER, rows[1]))
    assert (first["country_code"], first["active"], first["phone_number"]) == (91, True, "9876500000")
    assert rows[2][HEADER.index("first_name")] == "=1+1"  # text, not a formula


def test_an_empty_application_exports_a_header_only(api, url, application):
    job, report = export(api, url)
    assert (job.status, job.total) == ("completed", 0)
    assert download(api, report).decode().splitlines() == [",".join(HEADER)]
    job, report = export(api, url, "xlsx")
    assert read_xlsx(download(api, report)) == [list(HEADER)]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_round_trip_export_then_import_into_another_application(api, url, application, other_application, people,
                                                                file_format):
    job, report = export(api, url, file_format)
    content = download(api, report)
    with serve_files({f"/export.{file_format}": content}) as base:
        response = api.post(url("users/jobs/import", application_id=other_application.id),
                            {"absolute_url": f"{base}/export.{file_format}", "relative_url": "",
                             "file_format": file_format}, format="json")
        assert response.status_code == 200, response.content
        jobs.run_job(response.json()["_id"])
    imported = Job.objects.get(pk=response.json()["_id"])
    assert (imported.status, imported.success_count) == ("completed", 6), list(imported.errors.values("message"))
    source = sorted(profile(c) for c in Customer.objects.filter(application=application, archived=False))
    copied = sorted(profile(c) for c in Customer.objects.filter(application=other_application))
    # the same customers, blocked state aside (an import creates active customers)
    assert [p[:7] + p[8:] for p in copied] == [p[:7] + p[8:] for p in source]
    # and in the same order
    newest = lambda app: [c.username for c in list_customers(app, q=None, archived=False, page=_page())[0]]
    assert newest(other_application) == newest(application)
    # importing the same file again changes nothing
    with serve_files({f"/export.{file_format}": content}) as base:
        again = api.post(url("users/jobs/import", application_id=other_application.id),
                         {"absolute_url": f"{base}/export.{file_format}", "relative_url": "",
                          "file_format": file_format}, format="json").json()
        jobs.run_job(again["_id"])
    assert Job.objects.get(pk=again["_id"]).success_count == 6
    assert sorted(profile(c) for c in Customer.objects.filter(application=other_application)) == copied
    assert set(Customer.objects.filter(application=other_application).values_list("version", flat=True)) == {0}


def _page():
    return PageRequest(1, 100)


def test_export_requests_scopes_and_applications(make_client, api, url, application, other_application, people):
    assert_error(api.post(url("users/jobs/export"), {"file_format": "pdf"}, format="json"), 400, "file_format")
    assert_error(api.post(url("users/jobs/export"), {}, format="json"), 400, "file_format")
    reader = make_client(scopes=[SCOPE_CUSTOMERS_READ])
    assert_error(reader.post(url("users/jobs/export"), {"file_format": "csv"}, format="json"), 403, "scope")
    assert not Job.objects.exists()
    job, report = export(api, url)
    listed = reader.get(url("users/jobs/export")).json()
    assert [j["_id"] for j in listed["items"]] == [job.pk] and listed["page"]["item_total"] == 1
    assert listed["items"][0]["created_by"] == {"name": "test client", "user_id": api.record.client_id,
                                                "type": "api_client"}
    assert reader.get(url("users/jobs/import")).json()["items"] == []
    assert_error(api.get(url(f"users/jobs/{job.pk}", application_id=other_application.id)), 404)
    other, _ = export(api, lambda suffix: url(suffix, application_id=other_application.id))
    assert other.total == 0  # only that application's customers
    # the link works for whoever holds it, until it expires
    assert APIClient().get(report["links"]["file"]["absolute_url"]).status_code == 200
    with override_settings(FILE_LINK_TTL_SECONDS=-1):
        expired = api.get(url(f"users/jobs/{job.pk}")).json()["links"]["file"]["absolute_url"]
    assert_error(APIClient().get(expired), 403, "expired")


@pytest.mark.django_db(transaction=True)
def test_command_exports_through_the_same_job(tmp_path, capsys):
    application, _ = core_services.create_application(company_id=COMPANY_ID, name="Demo", application_id=APP_ID)
    for n in range(25):
        services.create_customer(application, {"phone_number": f"98765{n:05d}"}, ACTOR)
    target = tmp_path / "out.xlsx"
    call_command("export_customers", "--application-id", APP_ID, "--format", "xlsx", "--output", str(target))
    out = capsys.readouterr().out
    assert "completed: 25 customers exported" in out and "/files/" in out
    assert len(read_xlsx(target.read_bytes())) == 26
    job = Job.objects.get()
    assert (job.kind, job.file_format, job.created_by["name"]) == ("customer_export", "xlsx",
                                                                  "manage.py export_customers")
    assert _stored(f"jobs/{application.id}/{job.pk}/parts") == []  # deleted once the job completed
    with pytest.raises(CommandError, match="csv or xlsx"):
        call_command("export_customers", "--application-id", APP_ID, "--format", "pdf")
