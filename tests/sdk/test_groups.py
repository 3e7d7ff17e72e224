"""The official Fynd JavaScript SDK against the real service over HTTP: every customer group method of the
SDK 3.4.2 PlatformClient (createUserGroup, getUserGroups, getUserGroupById, updateUserGroup,
updateUserGroupPartially) and the users of a group, with strictResponseCheck on (scenario:
tests/sdk/groups.test.js). Group files are served by a local HTTP server; jobs run at once in the server
(Celery eager mode), so the script sees a file's group finished on its next call."""

from django.test import override_settings

from config import celery_app
from core.jobs import tasks as _tasks  # noqa: F401  registers the job task with celery_app
from tests.file_server import serve_files
from tests.sdk.runner import run_sdk_script

FILES = {
    "/members.csv": (b"email,phone_number,user_id\n"
                     b"g1@example.com,,\n"
                     b",9876500002,\n"
                     b",+91 98765 00003,\n"
                     b"ghost@example.com,,\n"),
    "/replacement.csv": b"email\nG4@Example.com\n",
    "/changes.csv": b"phone_number,action\n9876500002,remove\n+919876500004,add\n",
}


def test_fynd_javascript_sdk_drives_the_group_methods(live_server, readonly_client_env, tmp_path, monkeypatch):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    with override_settings(MEDIA_ROOT=str(tmp_path / "media"), FILE_URL_ALLOWED_HOSTS=["localhost"]), \
            serve_files(FILES) as base:
        result = run_sdk_script(live_server, "groups.test.js", "sdk groups", {
            **readonly_client_env,
            "FDK_FILES": base,
        })
    assert "FAIL" not in result.stdout and "all 12 steps passed" in result.stdout, result.stdout
