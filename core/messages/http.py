"""Outbound POSTs of the SMS backends, guarded as every outbound URL of the service is
(``core.files.downloads.vet_url``): http(s) only, no private / loopback address unless the host is in
SMS_ALLOWED_HOSTS, the connection made to the vetted address itself (no second DNS answer), no
redirects followed, SMS_CONNECT_TIMEOUT_SECONDS to connect and SMS_TIMEOUT_SECONDS in all."""

import ssl
from dataclasses import dataclass

from django.conf import settings
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, Timeout
from urllib3 import exceptions as urllib3_errors

from core.files.downloads import vet_url

MAX_ANSWER_BYTES = 64 * 1024


class Unreachable(Exception):
    """The request did not get an answer (connection refused, timeout, TLS): worth trying again."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


def post(url: str, body: bytes, headers: dict, *, setting: str) -> Answer:
    """POST ``body`` to ``url``; DownloadError if the URL is refused (``setting`` names it), Unreachable
    when no answer comes."""
    target = vet_url(url, setting, allowed_hosts=settings.SMS_ALLOWED_HOSTS)
    headers = {"Host": target.host_header, "User-Agent": "fynd-customers/1.0", **headers}
    timeout = Timeout(connect=settings.SMS_CONNECT_TIMEOUT_SECONDS, total=settings.SMS_TIMEOUT_SECONDS)
    last_error = "no address"
    for address in target.addresses:
        if target.scheme == "https":
            pool = HTTPSConnectionPool(address, target.port, maxsize=1, server_hostname=target.host,
                                       assert_hostname=target.host, cert_reqs="CERT_REQUIRED",
                                       ssl_context=ssl.create_default_context())
        else:
            pool = HTTPConnectionPool(address, target.port, maxsize=1)
        try:
            response = pool.urlopen("POST", target.request_target, body=body, headers=headers, redirect=False,
                                    retries=False, assert_same_host=False, timeout=timeout,
                                    preload_content=False)
            try:
                return Answer(response.status, response.read(MAX_ANSWER_BYTES))
            finally:
                response.release_conn()
        except (urllib3_errors.NewConnectionError, urllib3_errors.ConnectTimeoutError) as exc:
            last_error = _reason(exc)  # try the host's next address
        except urllib3_errors.HTTPError as exc:
            raise Unreachable(f"{target.host}: {_reason(exc)}") from None
        finally:
            pool.close()
    raise Unreachable(f"cannot connect to {target.host}: {last_error}")


def _reason(exc: Exception) -> str:
    reason = getattr(exc, "reason", None) or exc
    return str(reason).split(": ", 1)[-1][:200] or type(exc).__name__
