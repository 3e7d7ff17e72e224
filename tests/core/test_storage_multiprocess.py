"""Several machines on one S3-compatible store (issue 16): two gunicorn web processes and one Celery worker,
each with a VAR_DIR and MEDIA_ROOT of its own (as on three machines), sharing the database, Redis, the
SECRET_KEY and the bucket. An export asked of one web process is written by the worker, downloaded through
the other, and re-imported by its own link through the other: the same customers in another application,
and no file on any machine's disk."""

import json
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from core.actors import Actor
from core.jobs.models import Job
from tests import gunicorn, workers
from tests.helpers import COMPANY_ID, platform_path
from users import services
from users.models import Customer

ROOT = Path(__file__).resolve().parents[2]
ACTOR = Actor.system("tests")
CUSTOMERS = 25

pytestmark = pytest.mark.django_db(transaction=True)


def call(port: int, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}" if path.startswith("/") else path, method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def wait_for_job(port: int, token: str, application_id: str, job_id: str, log: Path) -> dict:
    deadline = time.monotonic() + 120
    while True:
        status, body, _ = call(port, "GET", platform_path(COMPANY_ID, application_id, f"users/jobs/{job_id}"), token)
        assert status == 200, body
        report = json.loads(body)
        if report["status"] not in Job.ACTIVE:
            return report
        assert time.monotonic() < deadline, f"job {job_id} did not finish; worker log:\n{log.read_text()[-3000:]}"
        time.sleep(0.2)


def files_under(*folders: Path) -> list[Path]:
    return [p for folder in folders if folder.exists() for p in folder.rglob("*") if p.is_file()]


def test_export_on_one_machine_downloads_and_reimports_through_another(
        s3_server, settings, tmp_path, make_client, application, other_application, monkeypatch):
    prefix = f"multiprocess/{uuid.uuid4().hex[:8]}"
    settings.STORAGES = {**settings.STORAGES, "default": s3_server.storage(prefix=prefix)}
    for n in range(CUSTOMERS):
        services.create_customer(application, {"phone_number": f"98765{n:05d}", "email": f"person{n}@example.com",
                                               "first_name": f"Person {n}", "last_name": "Rao"}, ACTOR)
    token = make_client().issued.access_token
    queue = f"storage-{uuid.uuid4().hex[:10]}"
    machines = {name: tmp_path / name for name in ("web-a", "web-b", "worker")}
    common = {**s3_server.env(prefix), "SECRET_KEY": settings.SECRET_KEY, "CELERY_QUEUE": queue, "LOG_LEVEL": "WARNING"}

    def env_of(machine: str) -> dict:
        home = machines[machine]
        return workers.worker_env(home / "media", VAR_DIR=home / "var", **common)

    ports = {"web-a": gunicorn.free_port(), "web-b": gunicorn.free_port()}
    logs = {name: tmp_path / f"{name}.log" for name in machines}
    web = {}
    worker = workers.start_worker(env_of("worker"), queue, logs["worker"])
    try:
        for name, port in ports.items():
            web[name] = gunicorn.start(env_of(name), port, logs[name])
        a, b = ports["web-a"], ports["web-b"]

        # the export, asked of machine A, written by the worker
        status, body, _ = call(a, "POST", platform_path(COMPANY_ID, application.id, "users/jobs/export"), token,
                               {"file_format": "csv"})
        assert status == 200, body
        job_id = json.loads(body)["_id"]
        report = wait_for_job(a, token, application.id, job_id, logs["worker"])
        assert (report["status"], report["count"]["success"]) == ("completed", CUSTOMERS), report

        # its link, as machine B gives it, downloads through B (and A)
        report_b = wait_for_job(b, token, application.id, job_id, logs["worker"])
        link = report_b["links"]["file"]["absolute_url"]
        assert link.startswith(f"http://127.0.0.1:{b}/files/")
        status, content, headers = call(b, "GET", link, token)
        assert status == 200, content
        assert headers["Content-Length"] == str(len(content))
        assert len(content.splitlines()) == CUSTOMERS + 1  # the header and every customer
        assert call(a, "GET", link.replace(f":{b}/", f":{a}/"), token)[:2] == (200, content)

        # re-imported by its own link through B into another application
        status, body, _ = call(b, "POST", platform_path(COMPANY_ID, other_application.id, "users/jobs/import"), token,
                               {"absolute_url": link, "relative_url": "", "file_format": "csv"})
        assert status == 200, body
        imported = wait_for_job(b, token, other_application.id, json.loads(body)["_id"], logs["worker"])
        assert (imported["status"], imported["count"]["success"], imported["count"]["error"]) == (
            "completed", CUSTOMERS, 0), imported
    finally:
        for process in web.values():
            gunicorn.stop(process)
        workers.stop(worker)

    people = lambda app: sorted(Customer.objects.filter(application=app).values_list("first_name", "last_name"))
    assert people(other_application) == people(application)
    emails = lambda app: sorted(Customer.objects.filter(application=app).values_list("emails__email", flat=True))
    assert emails(other_application) == emails(application)
    # every file in the bucket, none on a machine's disk
    export = Job.objects.get(pk=job_id)
    keys = s3_server.keys(prefix)
    assert f"{prefix}/{export.result_file}" in keys
    assert not [k for k in keys if "/parts/" in k], "the export's parts are deleted once it is complete"
    assert files_under(*(home / "media" for home in machines.values())) == []

