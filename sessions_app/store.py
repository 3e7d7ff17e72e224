"""Customer sessions in Redis, with their expiry.

Layout (``PREFIX`` = ``fsess:``):

* ``fsess:s:<session_id>`` — a hash per session (application, customer, domain, ip, user agent,
  created / expiry times, lifetime, rolling flag) whose Redis TTL is the session's lifetime, so a
  session ends on its own without any sweeper;
* ``fsess:c:<application_id>:<customer_id>`` — a sorted set of the customer's session ids scored by
  expiry (epoch seconds), so listing and ending all of a customer's sessions touches only their keys.
  Expired members are pruned whenever the set is written or read; the set's own TTL follows its
  latest session;
* ``fsess:a:<application_id>`` — the same for every session of the application, so that the console's
  overview counts live sessions with one ZCOUNT (``live_count``) instead of scanning keys.

Session ids are 256-bit random (``secrets.token_urlsafe(32)``). The ``f.session`` cookie value is the
id signed with :mod:`django.core.signing` (HMAC with ``SECRET_KEY`` and a salt), so a forged or
altered cookie is rejected before any lookup.

One connection pool per process (``connection()``), created on first use from ``settings.REDIS_URL``.
"""

import secrets
import threading
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core import signing

COOKIE_NAME = "f.session"
PREFIX = "fsess:"
_SALT = "sessions_app.f.session"
_signer = signing.Signer(salt=_SALT)

_lock = threading.Lock()
_client: redis.Redis | None = None
_client_url: str | None = None


def connection() -> redis.Redis:
    """The process's Redis client (one pool); rebuilt only if REDIS_URL changes (tests)."""
    global _client, _client_url
    url = settings.REDIS_URL
    if _client is None or _client_url != url:
        with _lock:
            if _client is None or _client_url != url:
                _client = redis.Redis.from_url(url, decode_responses=True, health_check_interval=30)
                _client_url = url
    return _client


def session_key(session_id: str) -> str:
    return f"{PREFIX}s:{session_id}"


def index_key(application_id: str, customer_id: str) -> str:
    return f"{PREFIX}c:{application_id}:{customer_id}"


def application_key(application_id: str) -> str:
    return f"{PREFIX}a:{application_id}"


# ----------------------------------------------------------------------------- cookie values

def new_session_id() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


def sign(session_id: str) -> str:
    return _signer.sign(session_id)


def unsign(value: str | None) -> str | None:
    """The session id of a cookie value, or None when it is missing, malformed or forged."""
    if not value or not isinstance(value, str) or len(value) > 200:
        return None
    try:
        return _signer.unsign(value)
    except signing.BadSignature:
        return None


# ----------------------------------------------------------------------------- sessions

@dataclass
class Session:
    session_id: str
    application_id: str
    customer_id: str
    domain: str
    ip: str
    user_agent: str
    created_at: float
    expires_at: float
    max_age: int
    rolling: bool

    @property
    def expire_in(self) -> int:
        """Whole seconds left, never negative."""
        return max(0, int(self.expires_at - time.time()))

    def as_hash(self) -> dict:
        return {
            "application_id": self.application_id, "customer_id": self.customer_id, "domain": self.domain,
            "ip": self.ip, "user_agent": self.user_agent, "created_at": repr(self.created_at),
            "expires_at": repr(self.expires_at), "max_age": str(self.max_age), "rolling": "1" if self.rolling else "0",
        }

    @classmethod
    def from_hash(cls, session_id: str, data: dict) -> "Session | None":
        try:
            return cls(
                session_id=session_id, application_id=data["application_id"], customer_id=data["customer_id"],
                domain=data.get("domain", ""), ip=data.get("ip", ""), user_agent=data.get("user_agent", ""),
                created_at=float(data["created_at"]), expires_at=float(data["expires_at"]),
                max_age=int(data["max_age"]), rolling=data.get("rolling") == "1",
            )
        except (KeyError, ValueError):
            return None


# A Lua function: writes the session hash with its TTL, indexes it under the customer and the application,
# prunes expired members and keeps the indexes alive as long as their latest session. KEYS[k], KEYS[k + 1],
# KEYS[k + 2]: the session, the customer's index and the application's;
# ARGV[a ..]: session id, max age, expires at, now, how many hash items follow, the items. Returns the
# indexes of the first key and argument after its own, so that other scripts can store a session as their
# last step (accounts: a sign-in admitted, its code used and its session stored in one round trip).
SAVE_LUA = """
local function save_session(k, a)
  local n = tonumber(ARGV[a + 4])
  redis.call('DEL', KEYS[k])
  redis.call('HSET', KEYS[k], unpack(ARGV, a + 5, a + 4 + n))
  redis.call('EXPIRE', KEYS[k], tonumber(ARGV[a + 1]))
  redis.call('ZADD', KEYS[k + 1], ARGV[a + 2], ARGV[a])
  redis.call('ZREMRANGEBYSCORE', KEYS[k + 1], '-inf', '(' .. ARGV[a + 3])
  local last = redis.call('ZRANGE', KEYS[k + 1], -1, -1, 'WITHSCORES')
  if last[2] then redis.call('EXPIREAT', KEYS[k + 1], math.ceil(tonumber(last[2])) + 1) end
  redis.call('ZADD', KEYS[k + 2], ARGV[a + 2], ARGV[a])
  redis.call('ZREMRANGEBYSCORE', KEYS[k + 2], '-inf', '(' .. ARGV[a + 3])
  return k + 3, a + 5 + n
end
"""

# One round trip, atomic; KEYS after the session's three: deleted with it (a sign-in's failure counts).
_SAVE = SAVE_LUA + """
save_session(1, 1)
if #KEYS > 3 then redis.call('DEL', unpack(KEYS, 4)) end
return 1
"""

# Renews a live session: new expiry in the hash, TTL and index. 0 when it is gone meanwhile.
_RENEW = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'expires_at', ARGV[3])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
if last[2] then redis.call('EXPIREAT', KEYS[2], math.ceil(tonumber(last[2])) + 1) end
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
return 1
"""

_scripts: dict = {}


def _script(name: str, source: str):
    client = connection()
    cached = _scripts.get(name)
    if cached is None or cached[0] is not client:
        cached = (client, client.register_script(source))
        _scripts[name] = cached
    return cached[1]


def new(*, application_id: str, customer_id: str, max_age: int, rolling: bool, domain: str = "", ip: str = "",
        user_agent: str = "") -> Session:
    """A session starting now, not stored yet (``save``, or a script ending with SAVE_LUA's save_session)."""
    now = time.time()
    return Session(
        session_id=new_session_id(), application_id=application_id, customer_id=customer_id, domain=domain,
        ip=ip, user_agent=user_agent, created_at=now, expires_at=now + max_age, max_age=max_age, rolling=rolling,
    )


def save_keys_and_args(session: Session, now: float | None = None) -> tuple[list[str], list]:
    """What SAVE_LUA's save_session reads: its two keys and its arguments."""
    flat = [item for pair in session.as_hash().items() for item in pair]
    now = session.created_at if now is None else now
    return ([session_key(session.session_id), index_key(session.application_id, session.customer_id),
             application_key(session.application_id)],
            [session.session_id, session.max_age, repr(session.expires_at), repr(now), len(flat), *flat])


def save(session: Session, now: float | None = None, client=None, *, clear: list[str] = ()) -> None:
    """Stores the session; ``clear``: keys deleted in the same round trip."""
    keys, args = save_keys_and_args(session, now)
    _script("save", _SAVE)(keys=[*keys, *clear], args=args, client=client)


def save_many(sessions: list[Session]) -> None:
    """Writes sessions as ``create`` does, pipelined (one round trip); for seeding load tests."""
    pipe = connection().pipeline(transaction=False)
    now = time.time()
    for session in sessions:
        save(session, now, client=pipe)
    pipe.execute()


def get(session_id: str) -> Session | None:
    """The live session, or None (unknown or expired)."""
    data = connection().hgetall(session_key(session_id))
    if not data:
        return None
    session = Session.from_hash(session_id, data)
    if session is None or session.expires_at <= time.time():
        return None
    return session


def renew(session: Session) -> bool:
    """Extends a rolling session by its full lifetime from now. False when it ended meanwhile."""
    expires_at = time.time() + session.max_age
    done = _script("renew", _RENEW)(
        keys=[session_key(session.session_id), index_key(session.application_id, session.customer_id),
              application_key(session.application_id)],
        args=[session.session_id, session.max_age, repr(expires_at)],
    )
    if done:
        session.expires_at = expires_at
    return bool(done)


def _live_ids(application_id: str, customer_id: str) -> list[str]:
    key = index_key(application_id, customer_id)
    pipe = connection().pipeline(transaction=True)
    pipe.zremrangebyscore(key, "-inf", f"({time.time()!r}")
    pipe.zrange(key, 0, -1)
    return pipe.execute()[1]


def list_for_customer(application_id: str, customer_id: str) -> list[Session]:
    """The customer's live sessions, the one ending soonest first."""
    ids = _live_ids(application_id, customer_id)
    if not ids:
        return []
    pipe = connection().pipeline(transaction=False)
    for session_id in ids:
        pipe.hgetall(session_key(session_id))
    now = time.time()
    sessions, stale = [], []
    for session_id, data in zip(ids, pipe.execute()):
        session = Session.from_hash(session_id, data) if data else None
        if session is None or session.expires_at <= now:
            stale.append(session_id)
        else:
            sessions.append(session)
    if stale:
        connection().zrem(index_key(application_id, customer_id), *stale)
    return sessions


def delete(application_id: str, customer_id: str, session_id: str) -> bool:
    """Ends one session of the customer. False when the customer has no such live session."""
    index = index_key(application_id, customer_id)
    client = connection()
    if client.zscore(index, session_id) is None:
        return False
    pipe = client.pipeline(transaction=True)
    pipe.delete(session_key(session_id))
    pipe.zrem(index, session_id)
    pipe.zrem(application_key(application_id), session_id)
    deleted, _, _ = pipe.execute()
    return bool(deleted)


def delete_all(application_id: str, customer_id: str) -> list[str]:
    """Ends every session of the customer; returns the ids of those that were live."""
    index = index_key(application_id, customer_id)
    client = connection()
    ids = client.zrangebyscore(index, f"({time.time()!r}", "+inf")
    every = client.zrange(index, 0, -1)
    pipe = client.pipeline(transaction=True)
    for session_id in every:
        pipe.delete(session_key(session_id))
    pipe.delete(index)
    if every:
        pipe.zrem(application_key(application_id), *every)
    results = pipe.execute()
    deleted = {sid for sid, n in zip(every, results) if n}
    return [sid for sid in ids if sid in deleted]


def live_count(application_id: str) -> int:
    """How many sessions of the application are live now (the expired ones are pruned as sessions are saved)."""
    return connection().zcount(application_key(application_id), f"({time.time()!r}", "+inf")


def ttl(session_id: str) -> int:
    """Redis's TTL of the session's key in seconds (-2 when gone); for tests and support commands."""
    return connection().ttl(session_key(session_id))
