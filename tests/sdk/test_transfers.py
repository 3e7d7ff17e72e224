"""The official Fynd JavaScript SDK against the real service over HTTP: bulkImportStoreFrontUsers,
getBulkImportUsersList, createBulkExportUsers, getBulkExportUsersList, getUsersJobByJobId and getUserTimeline
with strictResponseCheck on (scenario: tests/sdk/transfers.test.js). Jobs run at once in the server (Celery
eager mode), so the script sees them finished on its next call."""

from django.test import override_settings

from config import celery_app
from core.tenancy import services as core_services
from core.jobs import tasks as _tasks  # noqa: F401  registers the job task with celery_app
from tests.file_server import serve_files
from tests.sdk.runner import COMPANY_ID, run_sdk_script

IMPORT_CSV = (b"first_name,email,phone_number\n"
              b"Kiran,kiran@example.com,9876500011\n"
              b"Bad,not-an-email,9876500012\n"
              b"Lata,lata@example.com,9876500013\n")


def test_fynd_javascript_sdk_drives_import_export_jobs_and_the_timeline(live_server, transactional_db, tmp_path,
                                                                        monkeypatch):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    second, _ = core_services.create_application(company_id=COMPANY_ID, name="SDK Store (copy)")
    with override_settings(MEDIA_ROOT=str(tmp_path / "media"), FILE_URL_ALLOWED_HOSTS=["localhost"]), \
            serve_files({"/new.csv": IMPORT_CSV}) as base:
        result = run_sdk_script(live_server, "transfers.test.js", "sdk transfers", {
            "FDK_SECOND_APPLICATION_ID": second.id,
            "FDK_IMPORT_URL": f"{base}/new.csv",
        })
    assert "FAIL" not in result.stdout
