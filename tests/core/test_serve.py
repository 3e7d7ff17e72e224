"""`make run`'s process: embedded PostgreSQL + Redis in a fresh var/, gunicorn, clean SIGTERM, data kept."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.db import OperationalError
from django.test import override_settings

from tests import gunicorn

ROOT = Path(__file__).resolve().parents[2]


def _wait_healthy(port: int, proc, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited early with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            time.sleep(0.5)
    raise AssertionError("serve did not become healthy in time")


def _run_command(env, *args) -> str:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True, timeout=120).stdout


def _postgres_running(var_dir: Path) -> bool:
    pid_file = var_dir / "pgdata" / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().split()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_serve_embedded_stack_starts_serves_stops_and_keeps_data(tmp_path):
    var_dir = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "PYTEST_VERSION")}
    env.update(VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="config.settings")
    port = gunicorn.free_port()

    def start():
        return subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(port), "--workers", "2"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )

    proc = start()
    try:
        assert _wait_healthy(port, proc) == {"status": "ok", "database": "ok", "broker": "ok"}
        # A command in a second terminal joins the running servers instead of starting others.
        created = json.loads(_run_command(env, "create_application", "--company-id", "42", "--name", "Kept"))
        assert created["company_id"] == "42"
        assert _postgres_running(var_dir), "the command must not stop the servers serve is using"
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, output
        assert "stopped" in output
    finally:
        if proc.poll() is None:
            proc.kill()
    time.sleep(1)
    assert not _postgres_running(var_dir), "PostgreSQL must stop with the last process using it"

    # Alone, a command starts the servers itself, finds the data of the last run, and stops them again.
    listing = _run_command(env, "shell", "-c",
                           "from core.models import Application; print(Application.objects.get(company_id=42).id)")
    assert listing.strip().splitlines()[-1] == created["application_id"]
    time.sleep(1)
    assert not _postgres_running(var_dir)


def test_settings_and_commands_without_the_database_start_no_server(tmp_path):
    var_dir = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "PYTEST_VERSION")}
    env.update(VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="config.settings")
    for command in (["check"], ["help"], ["--version"], ["makemigrations", "--check", "--dry-run"]):
        _run_command(env, *command)
    urls = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; "
                               "print(settings.DATABASE_URL); print(settings.REDIS_URL)"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=60).stdout.split()
    assert urls == [f"postgresql://postgres:@/fynd?host={var_dir / 'pgdata'}",
                    f"unix://{var_dir / 'redis' / 'redis.sock'}?db=0"]  # the addresses, computed
    assert not (var_dir / "pgdata").exists() and not (var_dir / "redis").exists()


def test_healthz_names_the_broker_when_redis_is_down(client, db):
    with override_settings(REDIS_URL="unix:///nonexistent/redis.sock?db=0"):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error" and body["database"] == "ok" and body["broker"].startswith("error")


def test_healthz_names_the_database_when_postgres_is_down(client, db, monkeypatch):
    from django.db import connection

    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"].startswith("error") and response.json()["broker"] == "ok"
