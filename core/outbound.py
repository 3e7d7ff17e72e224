"""The one guarded client for the service's small outbound HTTP calls (SMS gateways, the social sign-in
providers' keys and token checks), under the rules of every outbound URL of the service
(``core.files.downloads.vet_url``):

- http and https only; the host is resolved once and no private / loopback / link-local … address is
  used unless the host is in ``allowed_hosts`` (the caller's setting, e.g. SMS_ALLOWED_HOSTS);
- the connection goes to the vetted address itself (no second DNS answer), while the Host header,
  TLS SNI and the certificate check use the URL's host name;
- no redirect is followed (a 3xx is an answer like any other);
- ``connect_timeout`` to connect (per address), ``timeout`` for the whole request;
- at most ``max_bytes`` of the answer are read (``Answer.complete`` says whether that was all of it).

A refused URL is a ``DownloadError`` naming ``setting``; no answer at all (refused connection,
timeout, TLS failure) is ``Unreachable``.
"""

from dataclasses import dataclass, field

from urllib3 import Timeout
from urllib3 import exceptions as urllib3_errors

from core.files.downloads import connection_pool, vet_url

USER_AGENT = "fynd-customers/1.0"


class Unreachable(Exception):
    """The request did not get an answer (connection refused, timeout, TLS): worth trying again."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: dict = field(default_factory=dict)  # names in lower case
    complete: bool = True  # False: the answer was longer than max_bytes and was cut there


class Session:
    """Connections kept open between requests (HTTP keep-alive) while the ``with`` block runs: a worker
    sending a batch to one receiver connects (and shakes hands over TLS) once. A URL is vetted (its host
    resolved and checked) once per session, not once per request: a batch to one receiver costs one DNS
    lookup; a connection is reused only for the same scheme, host, port and vetted address."""

    def __init__(self):
        self._pools: dict = {}
        self._vetted: dict = {}

    def vet(self, url: str, setting: str, allowed_hosts: list):
        key = (url, setting, tuple(allowed_hosts))
        if key not in self._vetted:
            self._vetted[key] = vet_url(url, setting, allowed_hosts=allowed_hosts)
        return self._vetted[key]

    def pool(self, target, address):
        key = (target.scheme, target.host, target.port, address)
        if key not in self._pools:
            self._pools[key] = connection_pool(target, address)
        return self._pools[key]

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
        self._vetted.clear()


def request(method: str, url: str, *, headers: dict | None = None, body: bytes | None = None, setting: str,
            allowed_hosts, connect_timeout: float, timeout: float, max_bytes: int,
            session: Session | None = None) -> Answer:
    """One request to ``url`` (see the module docstring for the rules); over ``session``'s connections
    when given."""
    hosts = list(allowed_hosts or ())
    target = session.vet(url, setting, hosts) if session is not None else vet_url(url, setting, allowed_hosts=hosts)
    sent_headers = {"Host": target.host_header, "User-Agent": USER_AGENT, "Accept-Encoding": "identity",
                    **(headers or {})}
    limit = Timeout(connect=connect_timeout, total=timeout)
    last_error = "no address"
    for address in target.addresses:
        pool = session.pool(target, address) if session is not None else connection_pool(target, address)
        try:
            response = pool.urlopen(method, target.request_target, body=body, headers=sent_headers, redirect=False,
                                    retries=False, assert_same_host=False, timeout=limit, preload_content=False)
            data = b""
            try:
                data = response.read(max_bytes + 1)
                return Answer(response.status, data[:max_bytes],
                              {name.lower(): value for name, value in response.headers.items()},
                              complete=len(data) <= max_bytes)
            finally:
                if len(data) <= max_bytes:
                    response.release_conn()  # read to the end: the connection can serve the next request
                else:
                    response.close()  # the rest is unread: this connection is done
        except (urllib3_errors.NewConnectionError, urllib3_errors.ConnectTimeoutError) as exc:
            last_error = _reason(exc)  # try the host's next address
        except urllib3_errors.HTTPError as exc:
            raise Unreachable(f"{target.host}: {_reason(exc)}") from None
        finally:
            if session is None:
                pool.close()
    raise Unreachable(f"cannot connect to {target.host}: {last_error}")


def _reason(exc: Exception) -> str:
    reason = getattr(exc, "reason", None) or exc
    return str(reason).split(": ", 1)[-1][:200] or type(exc).__name__
