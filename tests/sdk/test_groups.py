"""The official Fynd JavaScript SDK against the real service over HTTP: every customer group method of the
SDK 3.4.2 PlatformClient (createUserGroup, getUserGroups, getUserGroupById, updateUserGroup,
updateUserGroupPartially) and the users of a group, with strictResponseCheck on (scenario:
tests/sdk/groups.test.js). Group files are served by a local HTTP server; jobs run at once in the server
(Celery eager mode), so the script sees a file's group finished on its next call."""

from django.test import override_settings

from config import celery_app
from core.tenancy import services as core_services
from core.jobs import tasks as _tasks  # noqa: F401  registers the job task with celery_app
from core.tenancy.models import SCOPE_CUSTOMERS_READ
from tests.file_server import serve_files
from tests.sdk.runner import COMPANY_ID, run_sdk_script

FILES = {
    "/members.csv": (b"email,phone_number,user_id\n"
                     b"g1@example.com,,\n"
                     b",9876500002,\n"
                     b",+91 98765 00003,\n"
                     b"ghost@example.com,,\n"),
    "/replacement.csv": b"email\nG4@Example.com\n",
    "/changes.csv": b"phone_number,action\n9876500002,remove\n+919876500004,add\n",
}


def test_fynd_javascript_sdk_drives_the_group_methods(live_server, transactional_db, tmp_path, monkeypatch):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    reader, reader_secret = core_services.create_api_client(
        company_id=COMPANY_ID, name="sdk group reader", scopes=[SCOPE_CUSTOMERS_READ])
    with override_settings(MEDIA_ROOT=str(tmp_path / "media"), FILE_URL_ALLOWED_HOSTS=["localhost"]), \
            serve_files(FILES) as base:
        result = run_sdk_script(live_server, "groups.test.js", "sdk groups", {
            "FDK_READONLY_CLIENT_ID": reader.client_id,
            "FDK_READONLY_CLIENT_SECRET": reader_secret,
            "FDK_FILES": base,
        })
    assert "FAIL" not in result.stdout and "all 12 steps passed" in result.stdout, result.stdout
