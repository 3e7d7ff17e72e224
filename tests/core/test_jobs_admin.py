"""The admin console's job pages: "Export customers" (users/transfers/admin.py) started from the console and
run by a real Celery worker, the job page's live progress (JobAdmin.progress_view and
core/static/core/job_progress.js, in Chromium too), company scoping and the read-only role."""

import csv
import io
import re
import signal
import time

import pytest
from django.contrib.auth import get_user_model
from openpyxl import load_workbook

from core import jobs
from core.actors import Actor
from core.jobs import tasks as core_tasks  # noqa: F401  registers run_job with celery_app
from core.jobs.models import Job
from core.tenancy import services as core_services
from tests import job_handlers, workers
from tests.browser import open_page
from tests.helpers import APP_ID, COMPANY_ID
from users import services as user_services

PASSWORD = "Adm1n-console-pass!"
JOBS = "/admin/core/job/"
EXPORT = "/admin/users/customer/export/"
IMPORT = "/admin/users/customer/import/"
BULK = "/admin/attributes/userattribute/bulk-update/"
ACTOR = Actor.system("tests")

assert job_handlers  # test_rows is registered in this process (the worker loads it by JOB_HANDLER_MODULES)


def make_customer(application, n, **fields):
    return user_services.create_customer(application, {"phone_number": f"98765{n:05d}",
                                                       "email": f"person{n}@example.com", **fields}, ACTOR)


def rows_job(application, **payload) -> Job:
    return jobs.create_job(application, "test_rows", ACTOR, payload=payload, file_name="rows.csv",
                           file_format="csv", enqueue=False)


def progress(client, job_id, status=200) -> dict:
    response = client.get(f"{JOBS}{job_id}/progress/")
    assert response.status_code == status, response.content[:300]
    if status != 200:
        return {}
    assert response["Content-Type"] == "application/json" and "no-store" in response["Cache-Control"]
    return response.json()


def download(client, path: str) -> bytes:
    response = client.get(path)
    assert response.status_code == 200, path
    return b"".join(response.streaming_content)


@pytest.fixture
def staff_user(application):
    return core_services.create_staff_user(company_id=COMPANY_ID, username="staff559", password=PASSWORD)


@pytest.fixture
def read_only_user(application):
    return core_services.create_staff_user(company_id=COMPANY_ID, username="auditor559", password=PASSWORD,
                                           role="read_only")


@pytest.fixture
def foreign_user(foreign_application):
    return core_services.create_staff_user(company_id=777, username="staff777", password=PASSWORD)


# --------------------------------------------------------------------------- export, with a real worker

@pytest.mark.django_db(transaction=True)
def test_export_form_starts_an_export_that_a_worker_finishes_and_the_file_downloads(client, media, tmp_path,
                                                                                 monkeypatch):
    application, _ = core_services.create_application(company_id=COMPANY_ID, name="Demo Store", application_id=APP_ID)
    second, _ = core_services.create_application(company_id=COMPANY_ID, name="Second Store")
    foreign, _ = core_services.create_application(company_id=777, name="Foreign Store")
    for n in range(5):
        make_customer(application, n, first_name=f"Demo{n}")
    make_customer(second, 10, first_name="Second")
    make_customer(foreign, 20, first_name="Foreign")
    staff = core_services.create_staff_user(company_id=COMPANY_ID, username="staff559", password=PASSWORD)
    client.force_login(staff)

    listing = client.get(JOBS).content.decode()
    assert f'href="{EXPORT}"' in listing and "Export customers" in listing
    form = client.get(EXPORT)
    assert form.status_code == 200
    page = form.content.decode()
    assert application.id in page and second.id in page and foreign.id not in page  # the company's only
    assert 'value="csv"' in page and 'value="xlsx"' in page

    queue, log = workers.private_queue(monkeypatch), tmp_path / "worker.log"
    response = client.post(EXPORT, {"application": second.id, "file_format": "csv"})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{JOBS}{job.pk}/change/"
    assert (job.kind, job.application_id, job.file_format, job.status, job.created_by["name"]) == (
        "customer_export", second.id, "csv", "pending", "staff559")

    # The job's page, before any worker ran it: it follows the job live.
    page = client.get(response["Location"]).content.decode()
    assert 'id="job-live"' in page and 'data-active="true"' in page
    assert f'data-progress-url="{JOBS}{job.pk}/progress/"' in page
    assert re.search(r'<script src="/static/core/job_progress\.js" defer>', page)
    assert "Export to customers_" in page  # the message of the form
    pending = progress(client, job.pk)
    assert (pending["status"], pending["finished"], pending["progress"], pending["downloads"]) == (
        "pending", False, 0, [])

    # The task was sent when the request's transaction committed; a real worker runs it.
    worker = workers.start_worker(workers.worker_env(media), queue, log)
    try:
        workers.wait_for(lambda: progress(client, job.pk)["finished"], "the export to finish", log)
    finally:
        workers.stop(worker, signal.SIGTERM)

    done = progress(client, job.pk)
    assert (done["status"], done["status_display"], done["total"], done["processed"], done["progress"],
            done["success_count"], done["error_count"], done["error"]) == (
        "completed", "completed", 1, 1, 100, 1, 0, "")
    assert [link["label"] for link in done["downloads"]] == ["result file"]
    assert done["times"]["finished_at"] != "-"
    rows = list(csv.DictReader(io.StringIO(download(client, done["downloads"][0]["url"]).decode())))
    assert [(r["first_name"], r["email"]) for r in rows] == [("Second", "person10@example.com")]

    # The finished job's page shows the link and no longer polls.
    page = client.get(f"{JOBS}{job.pk}/change/").content.decode()
    assert 'data-active="false"' in page and ">result file</a>" in page


def test_export_form_xlsx_of_the_chosen_application(staff_user, client, application, other_application):
    for n in range(3):
        make_customer(application, n, first_name=f"Asha{n}")
    make_customer(other_application, 9, first_name="Elsewhere")
    client.force_login(staff_user)
    response = client.post(EXPORT, {"application": application.id, "file_format": "xlsx"})
    job = Job.objects.get()
    assert response.status_code == 302 and (job.application_id, job.file_format) == (application.id, "xlsx")
    assert job.file_name.endswith(".xlsx")
    jobs.run_job(job.pk)
    data = progress(client, job.pk)
    assert (data["status"], data["total"], data["success_count"]) == ("completed", 3, 3)
    workbook = load_workbook(io.BytesIO(download(client, data["downloads"][0]["url"])), read_only=True)
    rows = [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    assert rows[0][:3] == ["user_id", "first_name", "last_name"]
    assert sorted(r[1] for r in rows[1:]) == ["Asha0", "Asha1", "Asha2"]


def test_export_form_errors_start_nothing(staff_user, client, application, foreign_application):
    client.force_login(staff_user)
    missing = client.post(EXPORT, {"file_format": "csv"})
    assert missing.status_code == 200 and missing.context["form"].errors == {"application": ["This field is required."]}
    wrong = client.post(EXPORT, {"application": application.id, "file_format": "pdf"})
    assert wrong.status_code == 200 and "file_format" in wrong.context["form"].errors
    foreign = client.post(EXPORT, {"application": foreign_application.id, "file_format": "csv"})
    assert foreign.status_code == 200
    assert "Select a valid choice" in foreign.context["form"].errors["application"][0]
    assert Job.objects.count() == 0


def test_export_service_refusal_shows_on_the_form(staff_user, client, application, monkeypatch):
    from core.api.errors import ValidationFailed
    from users.transfers import exports

    def refuse(*args, **kwargs):
        raise ValidationFailed("exports are paused for maintenance.")

    monkeypatch.setattr(exports, "start_export", refuse)
    client.force_login(staff_user)
    response = client.post(EXPORT, {"application": application.id, "file_format": "csv"})
    assert response.status_code == 200 and "exports are paused for maintenance." in response.content.decode()
    assert Job.objects.count() == 0


def test_a_superuser_exports_any_company(client, application, foreign_application):
    root = get_user_model().objects.create_superuser("root", password=PASSWORD)
    client.force_login(root)
    assert foreign_application.id in client.get(EXPORT).content.decode()
    response = client.post(EXPORT, {"application": foreign_application.id, "file_format": "csv"})
    assert response.status_code == 302 and Job.objects.get().application_id == foreign_application.id


# --------------------------------------------------------------------------- the progress view

def test_progress_view_answers_the_jobs_numbers(staff_user, client, application):
    client.force_login(staff_user)
    job = rows_job(application, rows=10, chunk_size=4)
    data = progress(client, job.pk)
    assert (data["id"], data["status"], data["finished"], data["total"], data["processed"], data["errors"]) == (
        job.pk, "pending", False, 0, 0, [])
    Job.objects.filter(pk=job.pk).update(status=Job.PROCESSING, total=10, processed=4, success_count=3, error_count=1)
    data = progress(client, job.pk)
    assert (data["status_display"], data["finished"], data["progress"], data["processed"], data["total"],
            data["success_count"], data["error_count"]) == ("processing", False, 40, 4, 10, 3, 1)

    Job.objects.filter(pk=job.pk).update(status=Job.PENDING, total=0, processed=0, success_count=0, error_count=0)
    jobs.run_job(job.pk)
    data = progress(client, job.pk)
    assert (data["status"], data["status_display"], data["finished"], data["progress"], data["total"],
            data["processed"], data["success_count"], data["error_count"]) == (
        "completed_with_errors", "completed with errors", True, 100, 10, 10, 9, 1)
    assert data["errors"] == [{"row": 7, "reference": "row-7", "message": "multiple of seven"}]
    (link,) = data["downloads"]
    assert link["label"] == "error file" and link["url"].startswith("/files/")
    assert b"multiple of seven" in download(client, link["url"])


def test_progress_of_another_companys_job_is_not_found(client, foreign_user, staff_user, application,
                                                       foreign_application):
    own, foreign = rows_job(application, rows=3), rows_job(foreign_application, rows=3)
    client.force_login(foreign_user)
    progress(client, own.pk, status=404)
    assert client.get(f"{JOBS}{own.pk}/change/").status_code == 302  # as the change page: "doesn't exist"
    assert progress(client, foreign.pk)["id"] == foreign.pk
    client.force_login(staff_user)
    progress(client, foreign.pk, status=404)
    progress(client, "0123456789abcdef01234567", status=404)
    assert progress(client, own.pk)["id"] == own.pk


def test_progress_needs_a_signed_in_staff_user(client, application):
    job = rows_job(application, rows=3)
    response = client.get(f"{JOBS}{job.pk}/progress/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    loose = get_user_model().objects.create_user("loose", password=PASSWORD, is_staff=True)
    client.force_login(loose)
    assert client.get(f"{JOBS}{job.pk}/progress/").status_code in (302, 403, 404)


def test_the_progress_script_is_served(client, db):
    response = client.get("/static/core/job_progress.js")
    assert response.status_code == 200
    script = b"".join(response.streaming_content).decode()
    assert "job-live" in script and "progressUrl" in script


# --------------------------------------------------------------------------- the read-only role

def test_read_only_staff_watch_jobs_but_start_none(read_only_user, client, application):
    client.force_login(read_only_user)
    job = rows_job(application, rows=3)
    listing = client.get(JOBS)
    assert listing.status_code == 200
    page = listing.content.decode()
    for link in ("Import customers", "Export customers", "Bulk update attributes", EXPORT, IMPORT, BULK):
        assert link not in page, link
    change = client.get(f"{JOBS}{job.pk}/change/")
    assert change.status_code == 200 and 'data-active="true"' in change.content.decode()
    assert progress(client, job.pk)["status"] == "pending"
    for form in (EXPORT, IMPORT, BULK):
        assert client.get(form).status_code == 403, form
    assert client.post(EXPORT, {"application": application.id, "file_format": "csv"}).status_code == 403
    assert Job.objects.count() == 1


def test_full_staff_see_every_start_link(staff_user, client, application):
    client.force_login(staff_user)
    page = client.get(JOBS).content.decode()
    for link in (EXPORT, IMPORT, BULK):
        assert f'href="{link}"' in page, link
    for form in (EXPORT, IMPORT, BULK):
        assert client.get(form).status_code == 200, form


# --------------------------------------------------------------------------- in a browser

@pytest.mark.django_db(transaction=True)
def test_the_job_page_follows_a_running_job_without_reloading(live_server, chromium_path, media, tmp_path,
                                                              monkeypatch):
    # Database setup first: Django refuses ORM calls while Playwright's sync API runs in this thread.
    application, _ = core_services.create_application(company_id=COMPANY_ID, name="Demo Store", application_id=APP_ID)
    core_services.create_staff_user(company_id=COMPANY_ID, username="staff559", password=PASSWORD)
    job = rows_job(application, rows=16, chunk_size=1, sleep=0.4)  # about 7 s of work, 2 rows in error
    queue, log = workers.private_queue(monkeypatch), tmp_path / "worker.log"
    worker = workers.start_worker(workers.worker_env(media, JOB_HANDLER_MODULES="tests.job_handlers"), queue, log)

    from playwright.sync_api import expect

    base = live_server.url
    progress_requests = []
    try:
        with open_page(timeout_ms=30_000) as page:
            page.on("request", lambda r: progress_requests.append(time.monotonic())
                    if r.url.endswith(f"/{job.pk}/progress/") else None)
            page.goto(f"{base}/admin/login/?next={JOBS}{job.pk}/change/")
            page.fill("#id_username", "staff559")
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            expect(page).to_have_url(f"{base}{JOBS}{job.pk}/change/")
            expect(page.locator(".field-status .readonly")).to_have_text("pending")
            expect(page.locator(".field-downloads .readonly")).to_have_text("-")
            page.evaluate("window.loadedOnce = true")  # gone if the page reloads

            core_tasks.run_job.delay(job.pk)  # the worker starts the job now (no ORM call here)

            # Part way: the counters move while the page stays.
            page.wait_for_function("""() => {
                const n = Number(document.querySelector('.field-processed .readonly').textContent);
                return n > 0 && n < 16; }""")
            expect(page.locator(".field-status .readonly")).to_have_text("processing")
            expect(page.locator("#job-live")).to_contain_text("Following the job live: processing")

            # The end: status, counts, 100 %, the error file's link and the first errors, no reload.
            expect(page.locator(".field-status .readonly")).to_have_text("completed with errors", timeout=30_000)
            expect(page.locator(".field-progress_display .readonly")).to_have_text("100 %")
            expect(page.locator(".field-processed .readonly")).to_have_text("16")
            expect(page.locator(".field-success_count .readonly")).to_have_text("14")
            expect(page.locator(".field-error_count .readonly")).to_have_text("2")
            expect(page.locator(".field-errors_preview td", has_text="row-14")).to_be_visible()
            expect(page.locator("#job-live")).to_have_text("The job has finished: completed with errors.")
            link = page.locator(".field-downloads a", has_text="error file")
            href = link.get_attribute("href")
            assert href.startswith("/files/")
            assert page.evaluate("window.loadedOnce") is True
            error_file = page.request.get(f"{base}{href}")
            assert error_file.ok and "row-7" in error_file.text()

            # Finished: no more polling.
            polled = len(progress_requests)
            page.wait_for_timeout(2500)
            assert len(progress_requests) == polled
    finally:
        workers.stop(worker, signal.SIGTERM)

    done = Job.objects.get(pk=job.pk)
    assert (done.status, done.processed, done.success_count, done.error_count) == ("completed_with_errors", 16, 14, 2)
    assert polled >= 3  # it asked again and again while the job ran
