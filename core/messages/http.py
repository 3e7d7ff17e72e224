"""Outbound POSTs of the SMS backends, through the service's one guarded client (``core.outbound``):
http(s) only, no private / loopback address unless the host is in SMS_ALLOWED_HOSTS, the connection
made to the vetted address itself (no second DNS answer), no redirects followed,
SMS_CONNECT_TIMEOUT_SECONDS to connect and SMS_TIMEOUT_SECONDS in all."""

from django.conf import settings

from core import outbound
from core.outbound import Answer, Unreachable

__all__ = ["Answer", "Unreachable", "post", "MAX_ANSWER_BYTES"]

MAX_ANSWER_BYTES = 64 * 1024


def post(url: str, body: bytes, headers: dict, *, setting: str) -> Answer:
    """POST ``body`` to ``url``; DownloadError if the URL is refused (``setting`` names it), Unreachable
    when no answer comes. A longer answer is cut at MAX_ANSWER_BYTES (only its status matters)."""
    return outbound.request("POST", url, headers=headers, body=body, setting=setting,
                            allowed_hosts=settings.SMS_ALLOWED_HOSTS,
                            connect_timeout=settings.SMS_CONNECT_TIMEOUT_SECONDS,
                            timeout=settings.SMS_TIMEOUT_SECONDS, max_bytes=MAX_ANSWER_BYTES)
