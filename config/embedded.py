"""Where the embedded PostgreSQL and Redis of a ``VAR_DIR`` listen: addresses only, nothing started.

The settings use these when ``DATABASE_URL`` / ``REDIS_URL`` are unset; the entry points start the
servers (:mod:`config.servers`). Both listen on Unix sockets only, so two clones on one machine never
meet. A socket path too long for the system (~107 bytes) is replaced by a short one in the temporary
directory, derived from the data directory: a symbolic link for PostgreSQL, the socket itself for Redis.
"""

import hashlib
import tempfile
from pathlib import Path

DATABASE_NAME = "fynd"
POSTGRES_USER = "postgres"
POSTGRES_SOCKET_NAME = ".s.PGSQL.5432"
MAX_SOCKET_PATH = 100


def _short_path(kind: str, data_dir: Path) -> Path:
    digest = hashlib.sha1(str(data_dir).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"fynd-{kind}-{digest}"


def pgdata(var_dir: Path) -> Path:
    return var_dir / "pgdata"


def postgres_socket_dir(var_dir: Path) -> Path:
    """The directory of PostgreSQL's socket (the data directory itself when its path is short enough)."""
    data_dir = pgdata(var_dir)
    if len(str(data_dir / POSTGRES_SOCKET_NAME)) <= MAX_SOCKET_PATH:
        return data_dir
    return _short_path("pg", data_dir)


def database_url(var_dir: Path) -> str:
    return f"postgresql://{POSTGRES_USER}:@/{DATABASE_NAME}?host={postgres_socket_dir(var_dir)}"


def redis_dir(var_dir: Path) -> Path:
    return var_dir / "redis"


def redis_socket(var_dir: Path) -> Path:
    socket = redis_dir(var_dir) / "redis.sock"
    if len(str(socket)) <= MAX_SOCKET_PATH:
        return socket
    return _short_path("redis", redis_dir(var_dir)).with_suffix(".sock")


def redis_url(var_dir: Path) -> str:
    return f"unix://{redis_socket(var_dir)}?db=0"
