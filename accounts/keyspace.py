"""The Redis keys of storefront accounts (prefix ``facct:``), on the sessions store's client.

Identifiers, targets and client IPs never appear in key names as they are: ``digest()`` turns them into
an HMAC (SHA-256, keyed with SECRET_KEY), so a Redis dump names nobody. Every key is written with a TTL.
"""

from django.utils.crypto import salted_hmac

from sessions_app.store import connection

PREFIX = "facct:"

__all__ = ["PREFIX", "connection", "digest", "key", "script"]


def digest(*parts: str) -> str:
    """A keyed, fixed-length name for a tuple of values (identifier, IP, target …)."""
    joined = "\x1f".join(str(part) for part in parts)
    return salted_hmac("accounts.keyspace", joined, algorithm="sha256").hexdigest()[:40]


def key(*parts: str) -> str:
    return PREFIX + ":".join(parts)


_scripts: dict = {}


def script(source: str):
    """The registered Lua script for ``source`` on the current client (EVALSHA, loaded on first use)."""
    client = connection()
    cached = _scripts.get(source)
    if cached is None or cached[0] is not client:
        cached = (client, client.register_script(source))
        _scripts[source] = cached
    return cached[1]
