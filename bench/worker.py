"""A real Celery worker for the job scenarios of `make bench`, with its peak memory sampled.

The worker runs as in production (``celery -A config worker``), with the solo pool so that the job
runs in the process whose memory is sampled; a thread samples the RSS of the worker's process tree
every 20 ms while a measurement is on (``peak()``). The worker listens on a queue of its own, so a
`make run` worker sharing the same Redis never takes the bench's jobs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psutil


class Worker:
    def __init__(self, base_dir: Path, *, env: dict, log_path: Path):
        self.base_dir = base_dir
        self.queue = f"bench-{uuid.uuid4().hex[:12]}"  # the server must send to it: CELERY_QUEUE
        self.env = {**os.environ, **env, "LOG_LEVEL": "WARNING", "CELERY_QUEUE": self.queue}
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self._peak = 0
        self._sampling = threading.Event()
        self._sampler: threading.Thread | None = None

    def start(self, timeout: float = 60) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--queues", self.queue,
             "--hostname", f"{self.queue}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "--loglevel", "WARNING"],
            cwd=self.base_dir, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # ready once the broker connection is up (log line "ready")
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited with code {self.process.returncode}; see {self.log_path}")
            if self.rss_mb() > 0 and "ready" in self.log_path.read_text(errors="replace"):
                return
            time.sleep(0.2)
        # --loglevel WARNING hides the "ready" line on some Celery versions: a live process will do.
        if self.process.poll() is not None:
            raise RuntimeError(f"the worker did not start; see {self.log_path}")

    def rss_mb(self) -> float:
        try:
            root = psutil.Process(self.process.pid)
            return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)]) / 2**20
        except psutil.Error:
            return 0.0

    def measure_memory(self):
        """Context manager: samples the RSS while the block runs; then ``peak_mb`` holds the maximum."""
        worker = self

        class _Window:
            def __enter__(self):
                worker._peak = 0
                worker._sampling.set()
                worker._sampler = threading.Thread(target=worker._sample, daemon=True)
                worker._sampler.start()
                return self

            def __exit__(self, *exc):
                worker._sampling.clear()
                worker._sampler.join()
                self.peak_mb = worker._peak / 2**20

        return _Window()

    def _sample(self) -> None:
        while self._sampling.is_set():
            try:
                root = psutil.Process(self.process.pid)
                rss = sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
                self._peak = max(self._peak, rss)
            except psutil.Error:
                pass
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
