"""The one guarded client for the service's small outbound HTTP calls (SMS gateways, the social sign-in
providers' keys and token checks, webhook deliveries), under the rules of every outbound URL of the
service (``core.files.downloads.vet_url``):

- http and https only; the host is resolved once and no private / loopback / link-local … address is
  used unless the host is in ``allowed_hosts`` (the caller's setting, e.g. SMS_ALLOWED_HOSTS);
- the connection goes to the vetted addresses themselves (no second DNS answer), while the Host header,
  TLS SNI and the certificate check use the URL's host name;
- no redirect is followed (a 3xx is an answer like any other), no proxy from the environment is used;
- ``connect_timeout`` to connect, ``timeout`` for the whole request;
- at most ``max_bytes`` of the answer are read (``Answer.complete`` says whether that was all of it).

A refused URL is a ``DownloadError`` naming ``setting``; no answer at all (refused connection,
timeout, TLS failure) is ``Unreachable``.

The requests are made by libcurl (``pycurl``): a webhook delivery cost the worker ~0.3 ms of CPU in
urllib3 and http.client's Python, ~0.06 ms in libcurl, and deliveries share the web processes' CPUs
(docs/bench.md, webhook_create_user). File downloads, streamed to disk with redirects vetted hop by hop,
stay in ``core.files.downloads``.
"""

import ssl
from dataclasses import dataclass, field
from functools import cached_property

import pycurl

from core.files.downloads import USER_AGENT, vet_url


class Unreachable(Exception):
    """The request did not get an answer (connection refused, timeout, TLS): worth trying again."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    header_lines: list = field(default_factory=list, repr=False)  # as curl passed them on
    complete: bool = True  # False: the answer was longer than max_bytes and was cut there

    @cached_property
    def headers(self) -> dict:
        """The final answer's headers, names in lower case (parsed when first read: a webhook delivery's
        2xx never is)."""
        return _headers(self.header_lines)


def _handle() -> pycurl.Curl:
    handle = pycurl.Curl()
    handle.setopt(pycurl.NOSIGNAL, 1)  # timeouts without SIGALRM: safe in threads
    handle.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
    handle.setopt(pycurl.FOLLOWLOCATION, 0)
    handle.setopt(pycurl.PROXY, "")  # never an http_proxy / https_proxy of the environment
    handle.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1)
    handle.setopt(pycurl.PATH_AS_IS, 1)  # the path as the URL has it, as it was vetted
    handle.setopt(pycurl.SSL_VERIFYPEER, 1)
    handle.setopt(pycurl.SSL_VERIFYHOST, 2)
    paths = ssl.get_default_verify_paths()  # the system's CAs, as Python's own TLS uses (SSL_CERT_FILE too)
    if paths.cafile:
        handle.setopt(pycurl.CAINFO, paths.cafile)
    if paths.capath:
        handle.setopt(pycurl.CAPATH, paths.capath)
    return handle


class Session:
    """Connections kept open between requests (HTTP keep-alive) while the ``with`` block runs: a worker
    sending a batch to one receiver connects (and shakes hands over TLS) once. A URL is vetted (its host
    resolved and checked) once per session, not once per request: a batch to one receiver costs one DNS
    lookup."""

    def __init__(self):
        self._vetted: dict = {}
        self._handle = None

    def vet(self, url: str, setting: str, allowed_hosts: list):
        key = (url, setting, tuple(allowed_hosts))
        if key not in self._vetted:
            self._vetted[key] = vet_url(url, setting, allowed_hosts=allowed_hosts)
        return self._vetted[key]

    @property
    def handle(self) -> pycurl.Curl:
        if self._handle is None:
            self._handle = _handle()
        return self._handle

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        self._vetted.clear()


def request(method: str, url: str, *, headers: dict | None = None, body: bytes | None = None, setting: str,
            allowed_hosts, connect_timeout: float, timeout: float, max_bytes: int,
            session: Session | None = None) -> Answer:
    """One request to ``url`` (see the module docstring for the rules); over ``session``'s connections
    when given."""
    hosts = list(allowed_hosts or ())
    target = session.vet(url, setting, hosts) if session is not None else vet_url(url, setting, allowed_hosts=hosts)
    handle = session.handle if session is not None else _handle()
    try:
        return _perform(handle, method, target, headers or {}, body, connect_timeout, timeout, max_bytes)
    finally:
        if session is None:
            handle.close()


def _perform(handle, method, target, headers, body, connect_timeout, timeout, max_bytes) -> Answer:
    host = f"[{target.host}]" if ":" in target.host else target.host
    addresses = ",".join(f"[{a}]" if ":" in a else a for a in target.addresses)
    # the host name answers with the vetted addresses only: curl never looks it up itself
    handle.setopt(pycurl.RESOLVE, [f"-{target.host}:{target.port}", f"{target.host}:{target.port}:{addresses}"])
    handle.setopt(pycurl.URL, f"{target.scheme}://{host}:{target.port}{target.request_target}")
    sent = {"Host": target.host_header, "User-Agent": USER_AGENT, "Accept-Encoding": "identity", **headers}
    handle.setopt(pycurl.HTTPHEADER, [f"{name}: {value}" for name, value in sent.items()] + ["Expect:"])
    if body is not None:
        handle.setopt(pycurl.POSTFIELDS, body)  # a session's handle keeps its options: each request sets them all
    else:
        handle.setopt(pycurl.HTTPGET, 1)
    handle.setopt(pycurl.CUSTOMREQUEST, method)
    handle.setopt(pycurl.CONNECTTIMEOUT_MS, max(1, int(connect_timeout * 1000)))
    handle.setopt(pycurl.TIMEOUT_MS, max(1, int(timeout * 1000)))
    chunks, size, header_lines = [], 0, []

    def write(data: bytes):
        nonlocal size
        chunks.append(data)
        size += len(data)
        return None if size <= max_bytes else 0  # 0: stop reading, the connection is closed

    handle.setopt(pycurl.WRITEFUNCTION, write)
    handle.setopt(pycurl.HEADERFUNCTION, header_lines.append)  # parsed once the answer is in
    try:
        handle.perform()
    except pycurl.error as exc:
        code, message = exc.args[0], str(exc.args[1]) if len(exc.args) > 1 else ""
        if code == pycurl.E_WRITE_ERROR and size > max_bytes:
            pass  # our write callback stopped the answer at max_bytes: what came is the answer, cut
        elif code == pycurl.E_COULDNT_CONNECT:
            raise Unreachable(f"cannot connect to {target.host}: {message[:200]}") from None
        else:  # a timeout ("… timed out after …"), TLS, a broken answer
            raise Unreachable(f"{target.host}: {message[:200] or f'curl error {code}'}") from None
    data = b"".join(chunks)
    return Answer(handle.getinfo(pycurl.RESPONSE_CODE), data[:max_bytes], header_lines,
                  complete=len(data) <= max_bytes)


def _headers(lines: list[bytes]) -> dict:
    """The final answer's headers (names in lower case) from the raw header lines curl passed on (those of an
    interim answer, e.g. a 100 Continue, come first and are dropped at the next status line)."""
    headers = {}
    for line in lines:
        text = line.decode("latin-1").rstrip("\r\n")
        if text.startswith("HTTP/"):
            headers.clear()
        elif ":" in text:
            name, _, value = text.partition(":")
            headers[name.strip().lower()] = value.strip()
    return headers
