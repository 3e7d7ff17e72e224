"""A real gunicorn for the tests that need web processes of their own (metrics across workers, proxies,
two machines sharing a store, a database restart under load): started on a free port, ready when
returned, stopped with its workers."""

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests import workers

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(env: dict, port: int, log: Path, *, workers: int = 1, bind: str = "127.0.0.1",
          conf: bool = True) -> subprocess.Popen:
    """gunicorn serving config.wsgi on ``bind:port``, with `manage.py serve`'s config/gunicorn.conf.py
    unless ``conf=False``; returned once /healthz answers."""
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi:application",
         *(["-c", "config/gunicorn.conf.py"] if conf else []), "-b", f"{bind}:{port}", "-w", str(workers)],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return process
        except OSError:
            if time.monotonic() > deadline:
                stop(process)
                raise AssertionError("gunicorn did not answer: " + log.read_text()) from None
            time.sleep(0.3)


def stop(process: subprocess.Popen) -> None:
    """A graceful stop (SIGTERM to the process group), SIGKILL after 30 s."""
    workers.stop(process, signal.SIGTERM)
