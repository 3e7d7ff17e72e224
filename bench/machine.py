"""Who uses the CPUs while we measure: the bench's own processes versus everything else.

The machine may be shared (other people's test runs, servers). "Ours" is this process, the server's
process tree (serve, gunicorn master and workers), the embedded PostgreSQL's processes (its
postmaster's tree) and the load generator (reaped children's rusage). "Foreign" is the rest of the
CPU time the kernel counted as busy. Before each scenario the bench waits, boundedly, for foreign
load to drop, and it reports the foreign load seen during each measurement.
"""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass
from pathlib import Path

import psutil


def postmaster_pid(pgdata: Path) -> int | None:
    return _pid_in(pgdata / "postmaster.pid")


def redis_pid(redis_dir: Path) -> int | None:
    return _pid_in(redis_dir / "redis.pid")


def _pid_in(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _tree(pid: int | None) -> list[psutil.Process]:
    if pid is None:
        return []
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _busy_seconds() -> float:
    t = psutil.cpu_times()
    return t.user + t.nice + t.system + getattr(t, "irq", 0) + getattr(t, "softirq", 0) + getattr(t, "steal", 0)


def _children_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class CpuShare:
    seconds: float
    busy_cores: float  # average number of busy CPUs over the window
    ours_cores: float
    foreign_cores: float


class CpuWatch:
    def __init__(self, roots: list[int | None]):
        self.roots = roots
        self._start: tuple | None = None

    def _ours(self) -> dict[int, float]:
        times = {}
        for proc in [p for root in self.roots for p in _tree(root)] + [psutil.Process()]:
            try:
                t = proc.cpu_times()
                times[proc.pid] = t.user + t.system
            except psutil.Error:
                pass
        return times

    def start(self) -> None:
        self._start = (time.monotonic(), _busy_seconds(), self._ours(), _children_seconds())

    def stop(self) -> CpuShare:
        began, busy0, ours0, children0 = self._start
        elapsed = max(time.monotonic() - began, 1e-6)
        busy = _busy_seconds() - busy0
        ours1 = self._ours()
        ours = sum(t - ours0.get(pid, 0.0) for pid, t in ours1.items()) + (_children_seconds() - children0)
        foreign = max(0.0, busy - ours)
        return CpuShare(elapsed, busy / elapsed, ours / elapsed, foreign / elapsed)

    def measure(self, seconds: float) -> CpuShare:
        self.start()
        time.sleep(seconds)
        return self.stop()

    def wait_for_quiet(self, *, threshold_cores: float, max_wait: float, log) -> CpuShare:
        """Wait (at most max_wait seconds) until other processes use less than threshold_cores."""
        deadline = time.monotonic() + max_wait
        share = self.measure(1.0)
        announced = False
        while share.foreign_cores > threshold_cores and time.monotonic() < deadline:
            if not announced:
                log(f"load: other processes use {share.foreign_cores:.2f} CPUs; waiting up to {max_wait:.0f} s "
                    "for the machine to calm down")
                announced = True
            share = self.measure(2.0)
        return share
