"""Start the real server (``manage.py serve --no-worker``: migrate, collectstatic, gunicorn) for the load."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, base_dir: Path, *, database_url: str, redis_url: str, workers: int, threads: int,
                 log_path: Path, extra_env: dict | None = None):
        self.base_dir = base_dir
        self.port = free_port()
        self.workers = workers
        self.threads = threads
        self.log_path = log_path
        self.env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "DEBUG": "false",
                    "LOG_LEVEL": "WARNING", **(extra_env or {})}
        self.process: subprocess.Popen | None = None
        self._log = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 180) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "w")
        command = [sys.executable, "manage.py", "serve", "--no-worker", "--host", "127.0.0.1",
                   "--port", str(self.port), "--workers", str(self.workers), "--threads", str(self.threads)]
        self.process = subprocess.Popen(command, cwd=self.base_dir, env=self.env, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with code {self.process.returncode}; see {self.log_path}")
            try:
                status, body = self.get("/healthz", timeout=2)
                if status == 200 and json.loads(body).get("status") == "ok":
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the server did not answer /healthz within {timeout:.0f} s; see {self.log_path}")

    def request(self, method: str, path: str, *, body: bytes | str | None = None, headers: dict | None = None,
                timeout: float = 10) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def get(self, path: str, headers: dict | None = None, timeout: float = 10) -> tuple[int, bytes]:
        return self.request("GET", path, headers=headers, timeout=timeout)

    def post_form(self, path: str, body: str, headers: dict) -> tuple[int, bytes]:
        return self.request("POST", path, body=body,
                            headers={"Content-Type": "application/x-www-form-urlencoded", **headers})

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # serve forwards it to gunicorn and waits
            try:
                self.process.wait(timeout=45)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
