"""The one way the service fetches a ``*_file_url``: guarded against SSRF, bounded, streamed to disk.

- http and https only. The host is resolved once and every address it resolves to must be public:
  private, loopback, link-local, multicast, reserved and unspecified IPv4 and IPv6 addresses
  (IPv4-mapped, 6to4 and NAT64 forms included) are refused, unless the host is listed in
  FILE_URL_ALLOWED_HOSTS.
- The connection goes to the vetted address itself, never through a second DNS lookup that a
  rebinding DNS server could answer differently, while the Host header, TLS SNI and the certificate
  check use the URL's host name.
- Redirects are followed by hand, at most FILE_DOWNLOAD_MAX_REDIRECTS, each hop vetted the same way.
- FILE_DOWNLOAD_CONNECT_TIMEOUT_SECONDS per connection attempt, FILE_DOWNLOAD_TIMEOUT_SECONDS for
  the whole download; at most FILE_DOWNLOAD_MAX_BYTES (Content-Length checked first, then every
  byte counted as it arrives). Settings are read at each call.

Every refusal is a ``DownloadError`` (a ValidationFailed: 400 in the API, the reason of a failed job)
naming the field, e.g. "could not fetch file_url: HTTP 404".
"""

import ipaddress
import socket
import ssl
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO, Iterator
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, Timeout
from urllib3 import exceptions as urllib3_errors

from core.api.errors import ValidationFailed

USER_AGENT = "fynd-customers/1.0"
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
READ_SIZE = 64 * 1024
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class DownloadError(ValidationFailed):
    code = "file_url_invalid"


@dataclass
class Downloaded:
    file: BinaryIO  # a temporary file, at position 0, deleted when the context ends
    size: int
    url: str  # after redirects
    content_type: str


def is_public_address(address) -> bool:
    """False for anything but a globally routable unicast address, whatever form it is written in."""
    ip = ipaddress.ip_address(str(address).split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
    if ip.version == 6:
        embedded = ip.ipv4_mapped or ip.sixtofour or (
            ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in NAT64 else None)
        if embedded is not None:
            ip = embedded
        elif ip.teredo:
            return False
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                                 or ip.is_reserved or ip.is_unspecified)


@contextmanager
def download(url: str, *, field: str = "file_url") -> Iterator[Downloaded]:
    """Fetch ``url`` into a temporary file (see the module docstring for the rules)."""
    deadline = time.monotonic() + settings.FILE_DOWNLOAD_TIMEOUT_SECONDS
    with tempfile.TemporaryFile() as sink:
        result = _fetch(url, sink, field, deadline)
        sink.seek(0)
        yield result


# ----------------------------------------------------------------------------- one hop

@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int
    addresses: list
    request_target: str  # path and query

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def _normalise_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def vet_url(url: str, field: str = "file_url", *, allowed_hosts=None) -> _Target:
    """Check the scheme and host and resolve it once; DownloadError unless every address is allowed
    (``allowed_hosts``: the hosts that may be private, FILE_URL_ALLOWED_HOSTS unless given)."""
    if not isinstance(url, str) or not url.strip():
        raise DownloadError(f"{field} must be an http or https URL.")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise DownloadError(f"{field} is not a valid URL.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise DownloadError(f"{field} must be an http or https URL.")
    host = _normalise_host(parts.hostname or "")
    if not host:
        raise DownloadError(f"{field} has no host.")
    port = port or (443 if scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise DownloadError(f"could not fetch {field}: the host {host} does not resolve.") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if allowed_hosts is None:
        allowed_hosts = settings.FILE_URL_ALLOWED_HOSTS
    allowed = {_normalise_host(h) for h in allowed_hosts}
    if host not in allowed and not all(is_public_address(a) for a in addresses):
        raise DownloadError(f"{field} points to a private address.")
    request_target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target(scheme, host, port, addresses, request_target)


def _fetch(url: str, sink: BinaryIO, field: str, deadline: float) -> Downloaded:
    current = url
    for _hop in range(settings.FILE_DOWNLOAD_MAX_REDIRECTS + 1):
        target = vet_url(current, field)
        response, pool = _open(target, field, deadline)
        try:
            if response.status in REDIRECT_STATUSES:
                location = response.headers.get("Location")
                if not location:
                    raise DownloadError(f"could not fetch {field}: HTTP {response.status} without a Location.")
                current = urljoin(current, location)
                continue
            if response.status != 200:
                raise DownloadError(f"could not fetch {field}: HTTP {response.status}.")
            size = _copy(response, sink, field, deadline)
            return Downloaded(sink, size, current, response.headers.get("Content-Type", ""))
        finally:
            response.close()
            pool.close()
    raise DownloadError(f"could not fetch {field}: more than {settings.FILE_DOWNLOAD_MAX_REDIRECTS} redirects.")


def _remaining(deadline: float, field: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise DownloadError(
            f"could not fetch {field}: it took more than {settings.FILE_DOWNLOAD_TIMEOUT_SECONDS:g} seconds.")
    return left


def connection_pool(target: _Target, address: str):
    """A one-connection pool to the vetted ``address`` of ``target``; over https the certificate and SNI
    are checked against the URL's host name, not the address."""
    if target.scheme == "https":
        return HTTPSConnectionPool(address, target.port, maxsize=1, server_hostname=target.host,
                                   assert_hostname=target.host, cert_reqs="CERT_REQUIRED",
                                   ssl_context=ssl.create_default_context())
    return HTTPConnectionPool(address, target.port, maxsize=1)


def _open(target: _Target, field: str, deadline: float):
    """GET from the first vetted address that accepts a connection; (response, pool)."""
    headers = {"Host": target.host_header, "User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    for address in target.addresses:
        left = _remaining(deadline, field)
        pool = connection_pool(target, address)
        try:
            response = pool.urlopen(
                "GET", target.request_target, headers=headers, redirect=False, retries=False,
                preload_content=False, assert_same_host=False,
                timeout=Timeout(connect=min(settings.FILE_DOWNLOAD_CONNECT_TIMEOUT_SECONDS, left), read=left))
            return response, pool
        except (urllib3_errors.NewConnectionError, urllib3_errors.ConnectTimeoutError):
            pool.close()  # try the host's next address
        except urllib3_errors.SSLError as exc:
            pool.close()
            raise DownloadError(f"could not fetch {field}: TLS failed ({_reason(exc)}).") from None
        except urllib3_errors.TimeoutError:
            pool.close()
            _remaining(deadline, field)
            raise DownloadError(f"could not fetch {field}: the server did not answer in time.") from None
        except urllib3_errors.HTTPError as exc:
            pool.close()
            raise DownloadError(f"could not fetch {field}: {_reason(exc)}.") from None
    raise DownloadError(f"could not fetch {field}: cannot connect to {target.host}.")


def _copy(response, sink: BinaryIO, field: str, deadline: float) -> int:
    limit = settings.FILE_DOWNLOAD_MAX_BYTES
    too_big = DownloadError(f"the file at {field} is larger than {limit} bytes.")
    declared = response.headers.get("Content-Length", "")
    if declared.strip().isdigit() and int(declared) > limit:
        raise too_big
    size = 0
    sock = _socket_of(response)
    try:
        while True:
            left = _remaining(deadline, field)
            if sock is not None and sock.fileno() != -1:  # -1: the body is complete and the socket closed
                sock.settimeout(left)  # so that one slow read cannot outlast the deadline either
            chunk = response.read1(READ_SIZE)
            if not chunk:
                return size
            size += len(chunk)
            if size > limit:
                raise too_big
            sink.write(chunk)
    except (urllib3_errors.TimeoutError, socket.timeout):
        _remaining(deadline, field)
        raise DownloadError(f"could not fetch {field}: the server stopped sending.") from None
    except urllib3_errors.HTTPError as exc:
        raise DownloadError(f"could not fetch {field}: {_reason(exc)}.") from None


def _socket_of(response):
    """The response's socket, to tighten its timeout; None if urllib3 / http.client hide it (then each
    read is bounded by the time that was left when the request was sent)."""
    sock = getattr(response.connection, "sock", None)
    if sock is None:  # http.client detaches it from the connection when the server will close
        raw = getattr(getattr(getattr(response, "_fp", None), "fp", None), "raw", None)
        sock = getattr(raw, "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _reason(exc: Exception) -> str:
    reason = getattr(exc, "reason", None) or exc
    return str(reason).split(": ", 1)[-1][:200] or type(exc).__name__
