"""A million live customer sessions in Redis for the session scenarios of `make bench`.

The sessions are written exactly as the service writes them (``sessions_app.store.save_many``: the
same Lua script as createUserSession, pipelined), one per active bench customer in turn until
``count`` sessions exist, each living 30 days. Their ids are derived from a seed
(sha256 → 43 url-safe characters, the shape of real ids), so that a later run can find them again:
a marker hash records the seed, count and expiry; a run reuses the sessions when the marker says
they are all there and a sample of them is indeed live, and otherwise deletes the old set and
writes a new one.
"""

from __future__ import annotations

import base64
import hashlib
import random
import secrets
import time
from dataclasses import dataclass

import psycopg
import redis

from sessions_app import store

MARKER_KEY = store.PREFIX + "bench:meta"
LIFETIME_SECONDS = 30 * 24 * 3600
MIN_REMAINING_SECONDS = 2 * 24 * 3600  # re-seed rather than measure sessions about to expire
BATCH = 2_000


@dataclass
class SeededSessions:
    count: int
    seed: str
    customer_ids: list[str]  # customer of session i = customer_ids[i % len(customer_ids)]
    reused: bool
    seconds: float
    redis_used_memory: str

    def session_id(self, index: int) -> str:
        return session_id(self.seed, index)

    def customer_of(self, index: int) -> str:
        return self.customer_ids[index % len(self.customer_ids)]


def session_id(seed: str, index: int) -> str:
    digest = hashlib.sha256(f"{seed}:{index}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def active_customer_ids(conn: psycopg.Connection, application_id: str) -> list[str]:
    rows = conn.execute(
        "SELECT id FROM users_customer WHERE application_id = %s AND active AND NOT archived ORDER BY id",
        [application_id],
    ).fetchall()
    return [r[0] for r in rows]


def _marker_valid(client, count: int, application_id: str) -> str | None:
    marker = client.hgetall(MARKER_KEY)
    if (not marker or int(marker.get("count", 0)) != count or marker.get("application_id") != application_id
            or float(marker.get("expires_at", 0)) < time.time() + MIN_REMAINING_SECONDS):
        return None
    seed = marker["seed"]
    rng = random.Random(3)
    pipe = client.pipeline(transaction=False)
    for index in rng.sample(range(count), min(200, count)):
        pipe.exists(store.session_key(session_id(seed, index)))
    return seed if all(pipe.execute()) else None


def _delete_previous(client, customer_ids: list[str], application_id: str, log) -> None:
    marker = client.hgetall(MARKER_KEY)
    if not marker:
        return
    seed, count = marker["seed"], int(marker.get("count", 0))
    log(f"sessions: deleting the previous {count:,} bench sessions ...")
    for start in range(0, count, BATCH * 5):
        client.delete(*(store.session_key(session_id(seed, i)) for i in range(start, min(count, start + BATCH * 5))))
    for start in range(0, len(customer_ids), BATCH * 5):
        client.delete(*(store.index_key(application_id, c) for c in customer_ids[start:start + BATCH * 5]))
    client.delete(MARKER_KEY)


def seed(conn: psycopg.Connection, application_id: str, count: int, *, log) -> SeededSessions:
    client = store.connection()
    customer_ids = active_customer_ids(conn, application_id)
    if not customer_ids:
        raise RuntimeError("the bench application has no active customers to give sessions to")
    started = time.perf_counter()
    existing = _marker_valid(client, count, application_id)
    if existing:
        log(f"sessions: reusing {count:,} live bench sessions in Redis")
        return SeededSessions(count, existing, customer_ids, True, 0.0, client.info("memory")["used_memory_human"])
    _delete_previous(client, customer_ids, application_id, log)
    new_seed = secrets.token_hex(8)
    now = time.time()
    log(f"sessions: writing {count:,} sessions ({len(customer_ids):,} active customers, {LIFETIME_SECONDS // 86400} "
        "days each) ...")
    for start in range(0, count, BATCH):
        store.save_many([
            store.Session(session_id=session_id(new_seed, i), application_id=application_id,
                          customer_id=customer_ids[i % len(customer_ids)], domain="bench.example.com",
                          ip=f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}", user_agent="make bench",
                          created_at=now, expires_at=now + LIFETIME_SECONDS, max_age=LIFETIME_SECONDS,
                          rolling=False)
            for i in range(start, min(count, start + BATCH))
        ])
        if (start // BATCH) % 100 == 99:
            log(f"sessions: {start + BATCH:,} written")
    client.hset(MARKER_KEY, mapping={"seed": new_seed, "count": count, "application_id": application_id,
                                     "expires_at": repr(now + LIFETIME_SECONDS)})
    client.expireat(MARKER_KEY, int(now + LIFETIME_SECONDS))
    seconds = time.perf_counter() - started
    log(f"sessions: {count:,} written in {seconds:.1f} s")
    return SeededSessions(count, new_seed, customer_ids, False, seconds, client.info("memory")["used_memory_human"])


def wait_for_persistence(log, timeout: float = 300) -> None:
    """Let Redis finish a background save / AOF rewrite (a fork writing GBs) before measuring."""
    client = store.connection()
    deadline = time.monotonic() + timeout
    announced = False
    while time.monotonic() < deadline:
        info = client.info("persistence")
        if not info.get("rdb_bgsave_in_progress") and not info.get("aof_rewrite_in_progress"):
            return
        if not announced:
            log("sessions: waiting for Redis to finish writing its snapshot / AOF ...")
            announced = True
        time.sleep(1)


def snapshot_before_measuring(log) -> None:
    """Redis's own snapshot schedule (``save 60 10000``: a fork writing the whole dataset, ~5 s of a core
    for the seeded sessions) would start inside some measured runs of the write-heavy scenarios and not
    others. When anything changed since the last snapshot, take it now and wait for it: the next one is
    then due no sooner than 60 s later, after the run (warm-up and run last well under a minute). Redis's
    configuration is untouched; only the timing of its snapshot is chosen."""
    client = store.connection()
    wait_for_persistence(log)
    if not client.info("persistence").get("rdb_changes_since_last_save"):
        return
    try:
        client.bgsave()
    except redis.ResponseError:  # one started between the two calls
        pass
    time.sleep(0.2)
    wait_for_persistence(lambda *_: None)
