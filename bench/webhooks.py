"""Events and webhooks under load (issue 14), in `make bench`: a real Celery worker and beat deliver to a
receiver in this process (``Receiver``: HTTP/1.1 keep-alive, every 50th signature checked with the
``standardwebhooks`` library), one subscription of the import bench application.

- ``create_user``: createUser p95 with one subscription beside the same scenario without any, in
  alternating short rounds (without, with, without, …; the backlog of a round drained before the next):
  the median of the rounds' ratios, each beside the mean of the two rounds without around it.
- ``deliveries``: events written at half the framework floor's req/s for 20 s; the delivered rate and
  the p95 from commit to the receiver.
- ``backlog``: the receiver down for 60 s while events are written at that rate, then back: how fast the
  backlog drains (deliveries per second from the receiver's return until the backlog is gone).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.load import Request

BASE_DIR = Path(__file__).resolve().parent.parent
VERIFY_EVERY = 50  # signatures checked with the standardwebhooks library (CPU the receiver would spend)


@dataclass
class Arrival:
    at: float  # time.time() when the body was read
    webhook_id: str
    occurred_at: float  # the event's occurred_at (its transaction's time)


class Receiver:
    """A webhook receiver on 127.0.0.1 that answers 204 and records what arrived; ``down()`` closes the
    listening socket and every open connection (a sender gets "connection refused"), ``up()`` listens on
    the same port again."""

    def __init__(self, secret: str = ""):
        self.secret = secret
        self.arrivals: list[Arrival] = []
        self.bad_signatures = 0
        self._lock = threading.Lock()
        self._server = None
        self._connections: set[socket.socket] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                with receiver._lock:
                    receiver._connections.add(self.connection)

            def finish(self):
                with receiver._lock:
                    receiver._connections.discard(self.connection)
                try:
                    super().finish()
                except OSError:
                    pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                arrived = time.time()
                event = json.loads(body)
                occurred = datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00")).timestamp()
                webhook_id = self.headers.get("webhook-id", "")
                with receiver._lock:
                    receiver.arrivals.append(Arrival(arrived, webhook_id, occurred))
                    check = len(receiver.arrivals) % VERIFY_EVERY == 0
                if check and receiver.secret and not receiver.verified(body, dict(self.headers.items())):
                    receiver.bad_signatures += 1
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler

    def verified(self, body: bytes, headers: dict) -> bool:
        from standardwebhooks.webhooks import Webhook, WebhookVerificationError

        try:
            Webhook(self.secret).verify(body, {k.lower(): v for k, v in headers.items()})
            return True
        except WebhookVerificationError:
            return False

    def up(self) -> "Receiver":
        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False
            allow_reuse_address = True

            def handle_error(self, request, client_address):
                pass  # connections cut by down()

        self._server = Server(("127.0.0.1", self.port), self._handler())
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def down(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server = None
        with self._lock:
            for conn in list(self._connections):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def count(self) -> int:
        with self._lock:
            return len(self.arrivals)

    def since(self, index: int) -> list[Arrival]:
        with self._lock:
            return self.arrivals[index:]


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(pct / 100 * len(ordered) + 0.5)) - 1))]


# ----------------------------------------------------------------------------- the worker and beat

@contextmanager
def delivery_processes(log_dir: Path, **env):
    """A Celery worker (prefork, 2 processes, as `make run`'s) and Celery beat on a queue of their own:
    beat's ticks number the events and hand them to the worker, which delivers them."""
    from bench.worker import _worker_env

    queue = f"bench-{uuid.uuid4().hex[:12]}"
    environment = _worker_env(CELERY_QUEUE=queue, **env)
    schedule = Path(tempfile.mkdtemp(prefix="bench-beat-")) / "schedule"
    worker_log, beat_log = log_dir / "webhooks-worker.log", log_dir / "webhooks-beat.log"
    processes = [
        subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency", "2",
                          "--queues", queue, "--hostname", f"{queue}@%h", "--without-gossip", "--without-mingle",
                          "--without-heartbeat", "--loglevel", "INFO"],
                         cwd=BASE_DIR, env=environment, stdout=worker_log.open("wb"), stderr=subprocess.STDOUT,
                         start_new_session=True),
        subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
                          "--schedule", str(schedule)],
                         cwd=BASE_DIR, env=environment, stdout=beat_log.open("wb"), stderr=subprocess.STDOUT,
                         start_new_session=True),
    ]
    try:
        deadline = time.monotonic() + 60
        while b" ready." not in worker_log.read_bytes():
            if any(p.poll() is not None for p in processes) or time.monotonic() > deadline:
                raise RuntimeError(f"the Celery worker did not start:\n{worker_log.read_text()[-3000:]}")
            time.sleep(0.05)
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, 15)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait()


# ----------------------------------------------------------------------------- writing events

class EventWriter:
    """Writes published events into the log at ``rate`` per second (a batch every 20 ms, each its own
    transaction, as the services' transactions write them), until stopped; what it wrote and when."""

    TICK = 0.02

    def __init__(self, database_url: str, application_id: str, rate: float):
        self.database_url, self.application_id, self.rate = database_url, application_id, rate
        self.written = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "EventWriter":
        self._thread.start()
        return self

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(30)
        return self.written

    def _run(self) -> None:
        import psycopg

        data = json.dumps({"changed": ["first_name"], "first_name": "Bench"})
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            started = time.monotonic()
            while not self._stop.is_set():
                due = int((time.monotonic() - started) * self.rate) - self.written
                if due > 0:
                    conn.execute(
                        "INSERT INTO users_auditevent (application_id, customer_id, action, reason, actor_type,"
                        " actor_id, actor_name, data, request_id, created_at, published, version)"
                        " SELECT %s, 'bench' || lpad(n::text, 19, '0'), 'customer.updated', '', 'system', 'bench',"
                        " 'make bench', %s::jsonb, '', clock_timestamp(), true, 1 FROM generate_series(1, %s) n",
                        [self.application_id, data, due])
                    self.written += due
                time.sleep(self.TICK)


def wait_for(receiver: Receiver, count: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while receiver.count() < count:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# ----------------------------------------------------------------------------- the measurements

@dataclass
class Figures:
    """What one webhook measurement found (bench/report.py prints it)."""

    key: str
    operation: str
    description: str
    value: float
    unit: str
    reference: str  # what it is compared with, e.g. "half the floor's req/s"
    reference_value: float
    ratio: float | None
    at_most: float | None = None
    at_least: float | None = None
    notes: list[str] = field(default_factory=list)
    passed: bool | None = None

    def judge(self) -> None:
        if self.ratio is None:
            self.passed = False
        elif self.at_most is not None:
            self.passed = self.ratio <= self.at_most
        elif self.at_least is not None:
            self.passed = self.ratio >= self.at_least


def sustained(receiver: Receiver, database_url: str, application_id: str, rate: float, seconds: float,
              log) -> tuple[float, float, int, int]:
    """Events written at ``rate`` for ``seconds``: (delivered per second over the writing time, p95 seconds
    from the event's transaction to the receiver, written, delivered)."""
    before = receiver.count()
    writer = EventWriter(database_url, application_id, rate).start()
    time.sleep(seconds)
    written = writer.stop()
    wait_for(receiver, before + written, 30)
    arrivals = receiver.since(before)
    window_start = min((a.occurred_at for a in arrivals), default=0)
    in_window = [a for a in arrivals if a.at <= window_start + seconds]
    latencies = [a.at - a.occurred_at for a in arrivals]
    log(f"webhooks: sustained {written:,} events written at {rate:,.0f}/s, {len(arrivals):,} delivered; "
        f"{len(in_window) / seconds:,.0f}/s within the window; commit to delivery p50 "
        f"{percentile(latencies, 50):.2f} s, p95 {percentile(latencies, 95):.2f} s")
    return len(in_window) / seconds, percentile(latencies, 95), written, len(arrivals)


def backlog(receiver: Receiver, database_url: str, application_id: str, rate: float, down_seconds: float,
            log) -> dict:
    """The receiver down for ``down_seconds`` while events are written at ``rate``; then it is back and the
    writing stops: from its return, seconds to the first delivery and until every event written while it
    was down has arrived, and that backlog's drain rate."""
    from users.models import event_row_of

    before = receiver.count()
    receiver.down()
    writer = EventWriter(database_url, application_id, rate).start()
    time.sleep(down_seconds)
    backlog_events = writer.stop()
    receiver.up()
    back_at = time.time()
    deadline = time.monotonic() + 900
    while receiver.count() - before < backlog_events and time.monotonic() < deadline:
        time.sleep(0.05)
    arrivals = receiver.since(before)
    rows = {event_row_of(a.webhook_id) for a in arrivals}
    drained_at = max((a.at for a in arrivals), default=back_at)
    first = min((a.at for a in arrivals), default=drained_at)
    drain_seconds = max(drained_at - back_at, 1e-6)
    figures = {"backlog": backlog_events, "delivered": len(rows), "first_delivery_after": first - back_at,
               "drain_seconds": drain_seconds, "drain_rate": len(rows) / drain_seconds,
               "duplicates": len(arrivals) - len(rows)}
    log(f"webhooks: backlog of {backlog_events:,} events ({down_seconds:.0f} s down at {rate:,.0f}/s): first delivery "
        f"{figures['first_delivery_after']:.1f} s after the receiver was back, {len(rows):,} delivered in "
        f"{drain_seconds:.1f} s ({figures['drain_rate']:,.0f}/s), {figures['duplicates']:,} twice")
    return figures


def create_user_requests(company_id: int, application_id: str, count: int, run: str) -> list[Request]:
    """createUser bodies, each a new customer (the email and mobile unique to this run)."""
    path = f"/service/platform/user/v1.0/company/{company_id}/application/{application_id}/customers"
    out = []
    for i in range(count):
        body = {"first_name": "Bench", "last_name": f"Webhook{i}", "gender": "female",
                "email": f"wh.{run}.{i}@bench.example.com", "phone_number": f"9{(int(run, 16) + i) % 10**9:09d}",
                "username": f"wh_{run}_{i}"}
        out.append(Request(path, method="POST", body=json.dumps(body, separators=(",", ":"))))
    return out
