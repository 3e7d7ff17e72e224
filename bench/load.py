"""HTTP load against the running server: wrk when installed, else a small Python load generator.

Both drive a fixed number of keep-alive-capable connections for a fixed time, each connection
sending the next request as soon as the previous answer arrived (closed loop), and report
requests/s with the p50/p95/p99 latency of every request.
"""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bench.verdicts import median

LUA_SCRIPT = Path(__file__).with_name("requests.lua")


@dataclass(frozen=True)
class Request:
    """One request of a scenario; ``headers`` add to (or replace) the scenario's Authorization / Accept."""

    path: str
    method: str = "GET"
    body: str | None = None
    headers: tuple[tuple[str, str], ...] = ()

    def line(self) -> str:
        """Its line in the requests file that bench/requests.lua reads."""
        if self.method == "GET" and self.body is None and not self.headers:
            return self.path
        return "\t".join([self.method, self.path, self.body or "", *(f"{k}: {v}" for k, v in self.headers)])


def write_requests(requests: list[Request], path: Path) -> Path:
    path.write_text("".join(r.line() + "\n" for r in requests))
    return path


@dataclass
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: dict = field(default_factory=dict)
    tool: str = "wrk"

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def combined(results: list[LoadResult]) -> LoadResult:
    """Several short runs as one: requests, seconds and errors added up; the percentiles the medians of the
    runs' (wrk gives percentiles, not the latencies they come from)."""
    errors: dict = {}
    for result in results:
        for kind, count in result.errors.items():
            errors[kind] = errors.get(kind, 0) + count
    return LoadResult(sum(r.requests for r in results), sum(r.seconds for r in results),
                      median([r.p50_ms for r in results]), median([r.p95_ms for r in results]),
                      median([r.p99_ms for r in results]), max(r.max_ms for r in results), errors,
                      results[0].tool)


def wrk_path() -> str | None:
    return shutil.which("wrk")


def wrk_version() -> str:
    path = wrk_path()
    if not path:
        return ""
    out = subprocess.run([path, "--version"], capture_output=True, text=True).stdout.strip()
    words = out.split()  # "wrk debian/4.1.0-3+b2 [epoll] Copyright (C) 2012 Will Glozer"
    return " ".join(words[:2]) if words else "wrk"


def run_wrk(base_url: str, requests_file: Path, authorization: str, *, seconds: float, connections: int,
            threads: int = 1) -> LoadResult:
    command = [wrk_path(), "--latency", "-t", str(threads), "-c", str(connections), "-d", f"{int(seconds)}s",
               "--timeout", "10s", "-s", str(LUA_SCRIPT), base_url, "--", str(requests_file), authorization]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-2000:]} {done.stderr[-2000:]}")
    data = json.loads(line[len("BENCH_RESULT "):])
    lat = data["latency_us"]
    errors = {k: v for k, v in data["errors"].items() if v}
    return LoadResult(
        requests=data["requests"], seconds=data["duration_us"] / 1e6, p50_ms=lat["p50"] / 1000,
        p95_ms=lat["p95"] / 1000, p99_ms=lat["p99"] / 1000, max_ms=lat["max"] / 1000, errors=errors, tool="wrk",
    )


def percentile(values: list[float], pct: float) -> float:
    """The nearest-rank percentile of ``values`` (0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, int(round(pct / 100 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def run_python(base_url: str, requests: list[Request], authorization: str, *, seconds: float,
               connections: int) -> LoadResult:
    """Fallback when wrk is missing: one thread per connection, http.client, reconnecting when told to."""
    parts = urlsplit(base_url)
    base_headers = {"Authorization": authorization, "Accept": "application/json"}
    prepared = [(r.method, r.path, r.body.encode() if r.body is not None else None,
                 {**base_headers, **({"Content-Type": "application/json"} if r.body is not None else {}),
                  **dict(r.headers)}) for r in requests]
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = {"status": 0, "connect": 0}
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker(n: int):
        conn = None
        position = (n * 7919) % len(prepared)
        record = latencies[n].append
        while time.perf_counter() < deadline:
            position = (position + 1) % len(prepared)
            method, path, body, headers = prepared[position]
            started = time.perf_counter()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                record(time.perf_counter() - started)
                if response.status >= 400:
                    with lock:
                        errors["status"] += 1
                if response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                with lock:
                    errors["connect"] += 1
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    started = time.perf_counter()
    workers = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(connections)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(seconds + 30)
    elapsed = time.perf_counter() - started
    values = sorted(v for per in latencies for v in per)
    return LoadResult(
        requests=len(values), seconds=elapsed, p50_ms=percentile(values, 50) * 1000,
        p95_ms=percentile(values, 95) * 1000, p99_ms=percentile(values, 99) * 1000,
        max_ms=(values[-1] * 1000 if values else 0.0), errors={k: v for k, v in errors.items() if v},
        tool="python",
    )


def run(base_url: str, requests: list[Request], requests_file: Path, authorization: str, *, seconds: float,
        connections: int, use_wrk: bool = True) -> LoadResult:
    if use_wrk and wrk_path():
        return run_wrk(base_url, requests_file, authorization, seconds=seconds, connections=connections)
    return run_python(base_url, requests, authorization, seconds=seconds, connections=connections)
