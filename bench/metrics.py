"""What /metrics costs (issue 16): the framework floor (``whoami``) on the bench's server, whose metrics are off,
beside the same floor on a second server with metrics on (METRICS_TOKEN: the request middleware times every
request into prometheus-client's multiprocess files) and scraped every SCRAPE_SECONDS meanwhile, as Prometheus
would. Same machine, same load, same run, in alternating rounds (off, on, off, …, off): each round "on" beside the
mean of the rounds "off" right before and after it, the verdict the median of those throughput ratios
(target ≥ 0.95: the metrics cost at most 5 % of the floor's throughput).

Pure parts (``Figure``, ``ratios``, ``judge``, ``table``, ``markdown``) are tested with plain figures
(tests/bench/test_metrics_bench.py).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.verdicts import median

KEY = "metrics_overhead"
AT_LEAST = 0.95  # floor req/s with metrics on ÷ with metrics off
SCRAPE_SECONDS = 5.0  # a scrape this often during the rounds with metrics on (Prometheus' default is 15 s or more)
HISTOGRAM = "customer_service_http_request_duration_seconds_count"


@dataclass
class Figure:
    key: str
    off_rps: list[float]  # the rounds without metrics (one more than with)
    on_rps: list[float]
    scrapes_ms: list[float] = field(default_factory=list)
    counted: int | None = None  # whoami requests the page counted during the rounds on
    sent: int | None = None  # whoami requests answered during the rounds on
    ratio: float | None = None
    passed: bool | None = None
    at_least: float = AT_LEAST


def ratios(off_rps: list[float], on_rps: list[float]) -> list[float]:
    """Each round on ÷ the mean of the rounds off around it (rounds run off, on, off, …, off)."""
    if len(off_rps) != len(on_rps) + 1:
        raise ValueError("each round with metrics needs a round without before and after it")
    out = []
    for i, on in enumerate(on_rps):
        reference = (off_rps[i] + off_rps[i + 1]) / 2
        if reference > 0:
            out.append(on / reference)
    return out


def judge(figure: Figure) -> Figure:
    """The median ratio against the target; every request of the rounds on must have been counted."""
    figure.ratio = median(ratios(figure.off_rps, figure.on_rps))
    counted_all = figure.counted is None or figure.sent is None or figure.counted >= figure.sent
    figure.passed = figure.ratio is not None and figure.ratio >= figure.at_least and counted_all
    return figure


def table(figures: list[Figure]) -> str:
    lines = []
    for f in figures:
        scrape = f"scrape p50 {median(f.scrapes_ms):.1f} ms, max {max(f.scrapes_ms):.1f} ms" if f.scrapes_ms else "no scrape"
        lines.append(f"{f.key}: floor {median(f.on_rps) or 0:,.0f} req/s with metrics, {median(f.off_rps) or 0:,.0f} "
                     f"without: {f.ratio or 0:.3f}× (target ≥ {f.at_least:g}×) {'PASS' if f.passed else 'FAIL'}; "
                     f"{scrape}; counted {f.counted} of {f.sent} requests")
    return "\n".join(lines)


def markdown(figures: list[Figure]) -> list[str]:
    if not figures:
        return []
    out = ["### Metrics (`/metrics` on vs off, bench/metrics.py)", "",
           "The floor (`whoami`) on the bench's server (metrics off) beside a second server with METRICS_TOKEN set "
           f"(every request timed into prometheus-client's multiprocess files; `/metrics` scraped every "
           f"{SCRAPE_SECONDS:g} s), in alternating rounds; the ratio is the median over the rounds of req/s with "
           "metrics ÷ the mean of the rounds without around it.", "",
           "| scenario | floor req/s without | floor req/s with | ratio | target | result | scrape p50 / max ms "
           "| requests counted |", "|---|---:|---:|---:|---|---|---:|---:|"]
    for f in figures:
        scrape = f"{median(f.scrapes_ms):.1f} / {max(f.scrapes_ms):.1f}" if f.scrapes_ms else "–"
        out.append(f"| {f.key} | {median(f.off_rps) or 0:,.0f} | {median(f.on_rps) or 0:,.0f} | {f.ratio or 0:.3f}× "
                   f"| ≥ {f.at_least:g}× | **{'PASS' if f.passed else 'FAIL'}** | {scrape} | {f.counted} of {f.sent} |")
    return out + [""]


def counted_requests(text: str, operation: str = "whoami") -> int:
    from prometheus_client.parser import text_string_to_metric_families

    return int(sum(s.value for family in text_string_to_metric_families(text) for s in family.samples
                   if s.name == HISTOGRAM and s.labels.get("operation") == operation))


class Scraper:
    """GET /metrics every ``interval`` seconds in a thread while started, timing each scrape."""

    def __init__(self, server, token: str, interval: float = SCRAPE_SECONDS):
        self.server, self.token, self.interval = server, token, interval
        self.times_ms: list[float] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def scrape(self) -> str:
        started = time.perf_counter()
        status, body = self.server.get("/metrics", headers={"Authorization": f"Bearer {self.token}"}, timeout=30)
        if status != 200:
            raise RuntimeError(f"/metrics answered {status}: {body[:300]!r}")
        self.times_ms.append((time.perf_counter() - started) * 1000)
        return body.decode()

    def _run(self):
        while not self._stop.wait(self.interval):
            self.scrape()

    def __enter__(self):
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def run(server, floor, token: str, workdir: Path, args, use_wrk: bool, *, base_dir: Path, database_url: str,
        redis_url: str, server_env: dict, log_dir: Path, watch_roots: list, log) -> list[Figure]:
    """Starts the second server (metrics on), measures the rounds, stops it; [the judged Figure]."""
    from bench import load
    from bench.machine import CpuWatch
    from bench.server import Server

    metrics_token = secrets.token_urlsafe(24)
    on = Server(base_dir, database_url=database_url, redis_url=redis_url, workers=args.workers, threads=args.threads,
                log_path=log_dir / "server-metrics.log", extra_env={**server_env, "METRICS_TOKEN": metrics_token})
    log(f"metrics: starting a second server with metrics on ({args.workers} workers) on {on.base_url} ...")
    on.start()
    try:
        authorization = floor.authorization or f"Bearer {token}"
        for target in (server, on):
            status, body = target.get(floor.requests[0].path, headers={"Authorization": authorization})
            if status != 200:
                raise RuntimeError(f"metrics: the floor answered {status} on {target.base_url}: {body[:300]!r}")
        scraper = Scraper(on, metrics_token)
        if server.get("/metrics")[0] != 404:
            raise RuntimeError("metrics: the bench's own server must have metrics off")
        requests_file = load.write_requests(floor.requests, workdir / "metrics-floor.txt")
        watch = CpuWatch([*watch_roots, on.process.pid])
        seconds = args.seconds / args.rounds

        def one_round(target):
            return load.run(target.base_url, floor.requests, requests_file, authorization, seconds=seconds,
                            connections=args.connections, use_wrk=use_wrk)

        for target in (server, on):  # warm-up of both
            load.run(target.base_url, floor.requests, requests_file, authorization, seconds=args.warmup,
                     connections=args.connections, use_wrk=use_wrk)
        watch.wait_for_quiet(threshold_cores=args.quiet_cpus, max_wait=args.quiet_wait, log=log)
        before = counted_requests(scraper.scrape())
        scraper.times_ms.clear()
        off_runs, on_runs = [one_round(server)], []
        with scraper:
            for _ in range(args.rounds):
                on_runs.append(one_round(on))
                off_runs.append(one_round(server))
        counted = counted_requests(scraper.scrape()) - before
        figure = judge(Figure(KEY, [r.rps for r in off_runs], [r.rps for r in on_runs], list(scraper.times_ms),
                              counted=counted, sent=sum(r.requests for r in on_runs)))
        errors = sum(r.error_count for r in off_runs + on_runs)
        if errors:
            figure.passed = False
        log(f"metrics: rounds off {', '.join(f'{r:,.0f}' for r in figure.off_rps)} req/s, on "
            f"{', '.join(f'{r:,.0f}' for r in figure.on_rps)} req/s: {figure.ratio or 0:.3f}× "
            f"({'PASS' if figure.passed else 'FAIL'}, target ≥ {AT_LEAST:g}×); {len(figure.scrapes_ms)} scrapes; "
            f"{counted:,} of {figure.sent:,} requests counted" + (f"; {errors} errors" if errors else ""))
        return [figure]
    finally:
        on.stop()
