"""Abuse protection in Redis, shared by every web process: rate limits, the client IP, account lockout.

Rate limits (``facct:rl:…``): a fixed window per (action, IP) and per (action, identifier) that starts
with the first request and lasts the action's window (settings.RATE_LIMITS); over the limit →
RateLimited, DRF's Throttled, so the API answers 429 with ``Retry-After`` in the error format.

Lockout (``facct:lk:…``), per ``account_lockout`` of the platform config, password and OTP failures
counted apart (docs/accounts.md, "Lockout and rate limits"):

* per (identifier, client IP): ``attempts`` failures lock that identifier *from that IP*;
* per customer: ``LOCKOUT_CUSTOMER_FACTOR × attempts`` failures lock the customer from everywhere.
  One IP adds at most ``attempts`` failures before its own lock stops it (callers check
  ``locked_until`` before hashing and never count a refused attempt), so locking someone out from
  everywhere takes that many different addresses.

A counter forgets ``duration`` minutes after its last failure; a lock lasts ``duration`` minutes and
restarts the count. Pair locks of a known customer are listed under the customer so that the admin
page shows and lifts them.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from django.conf import settings
from rest_framework import exceptions

from accounts import keyspace
from accounts import metrics as account_metrics
from core.api import proxy
from core.api.errors import ServiceError
from sessions_app import store

LOCKOUT_KINDS = ("password", "otp")


class RateLimited(exceptions.Throttled):
    """429 with Retry-After (core.api.errors' handler renders DRF's ``wait``), code "rate_limited"."""

    default_code = "rate_limited"
    default_detail = "Too many requests."

    def __init__(self, retry_after: float, detail: str | None = None):
        super().__init__(wait=max(1.0, retry_after), detail=detail)
        account_metrics.REFUSED.labels("rate_limited").inc()

    @property
    def retry_after(self) -> int:
        return self.wait


# A Lua function that scripts begin with: counts the rate-limit counters KEYS[k ..] (ARGV[a]: how many,
# ARGV[a + 1]: how many lock keys follow them, then limit and window of each counter) and reads the longest
# PTTL among the lock keys after them. Returns the longest wait (ms) among counters over their limit, the
# longest lock (ms), and the indexes of the first key and argument after its own.
ADMISSION_LUA = """
local function admission(k, a)
  local counters, locks = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  local wait, locked = 0, 0
  for i = 0, counters - 1 do
    local key = KEYS[k + i]
    local n = redis.call('INCR', key)
    if n == 1 or redis.call('PTTL', key) < 0 then redis.call('EXPIRE', key, ARGV[a + 3 + 2 * i]) end
    if n > tonumber(ARGV[a + 2 + 2 * i]) then wait = math.max(wait, redis.call('PTTL', key)) end
  end
  for i = k + counters, k + counters + locks - 1 do locked = math.max(locked, redis.call('PTTL', KEYS[i])) end
  return wait, locked, k + counters + locks, a + 2 + 2 * counters
end
"""

_ADMIT = ADMISSION_LUA + """
local wait, locked = admission(1, 1)
return {wait, locked}
"""

# Admitted, then a session stored (sessions_app.store.SAVE_LUA): a sign-in without a secret to check (social,
# a sign-in token) in one round trip.
_ADMIT_THEN_SAVE = ADMISSION_LUA + store.SAVE_LUA + """
local wait, locked, k, a = admission(1, 1)
if wait > 0 or locked > 0 then return {wait, locked} end
save_session(k, a)
return {0, 0}
"""


class AccountLocked(ServiceError):
    """403 ``account_locked`` while a lockout holds, with when it ends (``retry_after`` s, ``locked_until``)."""

    code = "account_locked"
    status_code = 403

    def __init__(self, until: datetime):
        account_metrics.REFUSED.labels("locked").inc()
        seconds = max(1, int((until - datetime.now(timezone.utc)).total_seconds()))
        super().__init__(f"Too many failed attempts: try again in {max(1, seconds // 60)} minute(s).",
                         meta={"retry_after": seconds, "locked_until": until.isoformat()})
        self.until = until


@dataclass(frozen=True)
class Admission:
    """Rate-limit counters to count and lock keys to read, before an attempt (``enforce``), or inside another
    script that begins with ADMISSION_LUA (``keys`` and ``args`` first, then ``verdict`` on its answer)."""

    counters: tuple[tuple[str, int, int], ...]
    locks: tuple[str, ...] = ()

    @property
    def keys(self) -> list[str]:
        return [c[0] for c in self.counters] + list(self.locks)

    @property
    def args(self) -> list:
        return [len(self.counters), len(self.locks), *(v for _, limit, window in self.counters for v in (limit, window))]

    def verdict(self, wait_ms: int, locked_ms: int) -> None:
        """RateLimited when a counter is over its limit, else AccountLocked while a lock holds."""
        if wait_ms:
            raise RateLimited(wait_ms / 1000)
        if locked_ms > 0:
            raise AccountLocked(_until(locked_ms))

    def __add__(self, other: "Admission") -> "Admission":
        """Both admissions' counters and locks, checked together (one round trip)."""
        return Admission(self.counters + other.counters, self.locks + other.locks)

    def enforce(self, *, then: store.Session | None = None) -> None:
        """Counts and reads in one round trip; raises as ``verdict``. Admitted, the session ``then`` is stored
        in the same round trip."""
        if then is not None:
            keys, args = store.save_keys_and_args(then)
            self.verdict(*keyspace.script(_ADMIT_THEN_SAVE)(keys=self.keys + keys, args=self.args + args))
        elif self.counters or self.locks:
            self.verdict(*keyspace.script(_ADMIT)(keys=self.keys, args=self.args))


NOTHING_TO_ADMIT = Admission(())


def _counters(action: str, ip: str, identifier: str | None) -> list[tuple[str, int, int]]:
    per_ip, per_identifier, window = settings.RATE_LIMITS[action]
    counters = [(_counter(f"{action}:ip", ip or "-"), per_ip, window)]
    if identifier:
        counters.append((_counter(f"{action}:id", identifier), per_identifier, window))
    return counters


def _counter(scope: str, key: str) -> str:
    return keyspace.key("rl", scope, keyspace.digest(key))


def hit(scope: str, key: str, limit: int, window_seconds: int) -> None:
    """Counts one request of ``key`` in ``scope``; RateLimited once more than ``limit`` in the window."""
    Admission(((_counter(scope, key), limit, window_seconds),)).enforce()


def rate_admission(action: str, *, ip: str, identifier: str | None = None) -> Admission:
    """The rate limit of ``action`` (a key of settings.RATE_LIMITS): per client IP and, when given, per
    identifier (email or phone, normalised)."""
    return Admission(tuple(_counters(action, ip, identifier)))


def check(action: str, *, ip: str, identifier: str | None = None) -> None:
    """``rate_admission`` enforced: both counted in one round trip."""
    rate_admission(action, ip=ip, identifier=identifier).enforce()


def customer_admission(scope: str, key: str, limit: int, window_seconds: int, *, application_id: str,
                       customer_id: str | None, policy: dict) -> Admission:
    """``hit``'s counter, and the customer's own locks (either kind) when a customer is named and the policy
    is on: what admits a sign-in that has no secret to count (social sign-in, a sign-in token)."""
    locks = lockout.customer_lock_keys(application_id, customer_id) \
        if customer_id is not None and _policy(policy)[0] else []
    return Admission(((_counter(scope, key), limit, window_seconds),), tuple(locks))


def admission(action: str, *, ip: str, identifier: str, kind: str, application_id: str, customer_id: str | None,
              policy: dict) -> Admission:
    """``check``'s counters and the ``kind`` locks that refuse this attempt (this identifier + IP's, the
    customer's): what admits a password or code attempt, before any hashing or comparison."""
    locks = lockout.lock_keys(kind, application_id, customer_id, identifier, ip) if _policy(policy)[0] else []
    return Admission(tuple(_counters(action, ip, identifier)), tuple(locks))


def client_ip(request) -> str:
    """The client's address (core.api.proxy.client_ip: forwarded only by TRUSTED_PROXIES)."""
    return proxy.client_ip(request)


# ----------------------------------------------------------------------------- lockout

# KEYS: pair counter, pair lock, customer counter, customer lock, customer's index of pair keys.
# ARGV: duration s, pair threshold, customer threshold, '1' when the customer is known.
# Returns 1 when this failure set a lock.
_FAILED = """
local ttl = tonumber(ARGV[1])
local locked = 0
local known = ARGV[4] == '1'
if redis.call('INCR', KEYS[1]) >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'EX', ttl)
  redis.call('DEL', KEYS[1])
  locked = 1
else
  redis.call('EXPIRE', KEYS[1], ttl)
end
if known then
  redis.call('SADD', KEYS[5], KEYS[1], KEYS[2])
  if redis.call('TTL', KEYS[5]) < ttl then redis.call('EXPIRE', KEYS[5], ttl) end
  if redis.call('INCR', KEYS[3]) >= tonumber(ARGV[3]) then
    redis.call('SET', KEYS[4], '1', 'EX', ttl)
    redis.call('DEL', KEYS[3])
    locked = 1
  else
    redis.call('EXPIRE', KEYS[3], ttl)
  end
end
return locked
"""

# KEYS: the customer's counters and locks of every kind, then its index. Deletes them and every key
# the index lists; returns how many locks were lifted.
_UNLOCK = """
local index = KEYS[#KEYS]
local lifted = 0
for _, key in ipairs(redis.call('SMEMBERS', index)) do
  if string.find(key, ':pl:', 1, true) then lifted = lifted + redis.call('DEL', key) else redis.call('DEL', key) end
end
for i = 1, #KEYS - 1 do
  local n = redis.call('DEL', KEYS[i])
  if string.find(KEYS[i], ':cl:', 1, true) then lifted = lifted + n end
end
redis.call('DEL', index)
return lifted
"""


def _policy(policy: dict | None) -> tuple[bool, int, int]:
    """(enabled, attempts, duration in seconds) of an ``account_lockout`` dict."""
    policy = policy or {}
    attempts = max(1, int(policy.get("attempts") or 1))
    return bool(policy.get("enable")), attempts, max(1, int(policy.get("duration") or 1)) * 60


def _check_kind(kind: str) -> str:
    if kind not in LOCKOUT_KINDS:
        raise ValueError(f"unknown lockout kind {kind!r}")
    return kind


def _until(milliseconds: int) -> datetime:
    return datetime.now(timezone.utc) + timedelta(milliseconds=milliseconds)


class Lockout:
    """``limits.lockout``: the counters and locks of account_lockout."""

    @staticmethod
    def _pair(kind: str, application_id: str, identifier: str, ip: str, part: str) -> str:
        return keyspace.key("lk", _check_kind(kind), application_id, part, keyspace.digest(identifier, ip or "-"))

    @staticmethod
    def _customer(kind: str, application_id: str, customer_id: str, part: str) -> str:
        return keyspace.key("lk", _check_kind(kind), application_id, part, str(customer_id))

    @staticmethod
    def _index(application_id: str, customer_id: str) -> str:
        return keyspace.key("lk", "idx", application_id, str(customer_id))

    def failed(self, kind: str, application_id: str, customer_id: str | None, identifier: str, ip: str,
               policy: dict) -> datetime | None:
        """Counts a wrong password or code (never call it for a refused, locked attempt). Returns the end
        of the lock this failure started, else None. A no-op while the policy is disabled."""
        account_metrics.SIGN_INS.labels(kind, "failed").inc()
        enabled, attempts, duration = _policy(policy)
        if not enabled:
            return None
        known = customer_id is not None
        customer = str(customer_id) if known else "-"
        locked = keyspace.script(_FAILED)(
            keys=[self._pair(kind, application_id, identifier, ip, "pn"),
                  self._pair(kind, application_id, identifier, ip, "pl"),
                  self._customer(kind, application_id, customer, "cn"),
                  self._customer(kind, application_id, customer, "cl"),
                  self._index(application_id, customer)],
            args=[duration, attempts, attempts * settings.LOCKOUT_CUSTOMER_FACTOR, "1" if known else "0"],
        )
        if locked:
            account_metrics.LOCKOUTS.labels(kind).inc()
        return _until(duration * 1000) if locked else None

    def count_keys(self, kind: str, application_id: str, customer_id: str | None, identifier: str,
                   ip: str) -> list[str]:
        """The failure counts a right password or code resets (for callers that delete them in a script)."""
        keys = [self._pair(kind, application_id, identifier, ip, "pn")]
        if customer_id is not None:
            keys.append(self._customer(kind, application_id, customer_id, "cn"))
        return keys

    def lock_keys(self, kind: str, application_id: str, customer_id: str | None, identifier: str,
                  ip: str) -> list[str]:
        """The locks that refuse this attempt: this identifier + IP's, and the customer's."""
        keys = [self._pair(kind, application_id, identifier, ip, "pl")]
        if customer_id is not None:
            keys.append(self._customer(kind, application_id, customer_id, "cl"))
        return keys

    def succeeded(self, kind: str, application_id: str, customer_id: str | None, identifier: str, ip: str, *,
                  then: store.Session | None = None) -> None:
        """A right password or code: both of the kind's counts start again. ``then``: a new session of the
        sign-in, stored in the same round trip."""
        keys = self.count_keys(kind, application_id, customer_id, identifier, ip)
        if then is None:
            keyspace.connection().delete(*keys)
        else:
            store.save(then, clear=keys)

    def locked_until(self, kind: str, application_id: str, customer_id: str | None, identifier: str, ip: str,
                     policy: dict) -> datetime | None:
        """The end of the lock that refuses this attempt (customer's or this identifier + IP's), or None.
        One round trip and no hashing: check it first."""
        if not _policy(policy)[0]:
            return None
        return _longest_lock(self.lock_keys(kind, application_id, customer_id, identifier, ip))

    def customer_lock_keys(self, application_id: str, customer_id: str) -> list[str]:
        """The customer's own locks (from everywhere), one per kind."""
        return [self._customer(kind, application_id, customer_id, "cl") for kind in LOCKOUT_KINDS]

    def customer_locked_until(self, application_id: str, customer_id: str, policy: dict) -> datetime | None:
        """The end of the customer's own lock of any kind (from everywhere), or None: what refuses a sign-in
        that has no secret to count (social sign-in)."""
        if not _policy(policy)[0]:
            return None
        return _longest_lock(self.customer_lock_keys(application_id, customer_id))

    def state(self, application_id: str, customer_id: str) -> dict:
        """For the admin page: {"locked", "locked_until", "locks": {kind: until | None},
        "failures": {kind: count toward the customer's lock}}. Pair locks of the customer included."""
        client = keyspace.connection()
        pipe = client.pipeline(transaction=False)
        for kind in LOCKOUT_KINDS:
            pipe.get(self._customer(kind, application_id, customer_id, "cn"))
            pipe.pttl(self._customer(kind, application_id, customer_id, "cl"))
        pipe.smembers(self._index(application_id, customer_id))
        *per_kind, members = pipe.execute()
        pair_locks = sorted(key for key in members if ":pl:" in key)
        pipe = client.pipeline(transaction=False)
        for key in pair_locks:
            pipe.pttl(key)
        pair_ttls = dict(zip(pair_locks, pipe.execute())) if pair_locks else {}
        failures, locks = {}, {}
        for index, kind in enumerate(LOCKOUT_KINDS):
            count, customer_ttl = per_kind[2 * index], per_kind[2 * index + 1]
            prefix = keyspace.key("lk", kind, "")
            longest = max([customer_ttl] + [ttl for key, ttl in pair_ttls.items() if key.startswith(prefix)])
            failures[kind] = int(count or 0)
            locks[kind] = _until(longest) if longest > 0 else None
        ends = [until for until in locks.values() if until]
        return {"locked": bool(ends), "locked_until": max(ends) if ends else None, "locks": locks,
                "failures": failures}

    def unlock(self, application_id: str, customer_id: str) -> bool:
        """Lifts every lock of the customer (theirs and their identifiers' per IP) and clears the counts.
        True when a lock was lifted."""
        keys = [self._customer(kind, application_id, customer_id, part)
                for kind in LOCKOUT_KINDS for part in ("cn", "cl")]
        lifted = keyspace.script(_UNLOCK)(keys=[*keys, self._index(application_id, customer_id)])
        return bool(lifted)


def _longest_lock(keys: list[str]) -> datetime | None:
    """The end of the longest of these locks (one pipelined round trip), or None."""
    pipe = keyspace.connection().pipeline(transaction=False)
    for key in keys:
        pipe.pttl(key)
    longest = max(pipe.execute())
    return _until(longest) if longest > 0 else None


lockout = Lockout()
