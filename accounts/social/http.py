"""The providers' endpoints, called through the service's guarded client (core.outbound): SOCIAL_ALLOWED_HOSTS
may be private, SOCIAL_CONNECT_TIMEOUT_SECONDS / SOCIAL_TIMEOUT_SECONDS, small JSON answers only."""

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.conf import settings

from accounts.social.errors import provider_unavailable
from core import outbound
from core.files.downloads import DownloadError

MAX_ANSWER_BYTES = 256 * 1024  # a JWKS is ~2 KB, a token check less


@dataclass(frozen=True)
class JsonAnswer:
    status: int
    data: dict
    headers: dict


@dataclass
class Guard:
    """A check run once, before the first call to a provider in a ``guarded_calls`` block."""

    check: Callable[[], None]
    done: bool = field(default=False)

    def __call__(self) -> None:
        if not self.done:
            self.done = True
            self.check()


_guard: ContextVar[Guard | None] = ContextVar("social_call_guard", default=None)


@contextmanager
def guarded_calls(check: Callable[[], None]) -> Iterator[Guard]:
    """Within the block, ``check`` (a rate limit) runs before the first request to a provider, if one is
    made: a flood stops before it reaches the provider, and a token checked locally spends no round trip
    on it here (``guard.done`` tells the caller whether it ran)."""
    guard = Guard(check)
    token = _guard.set(guard)
    try:
        yield guard
    finally:
        _guard.reset(token)


def get_json(provider: str, url: str, setting: str) -> JsonAnswer:
    """GET ``url``; the answer's JSON object (``{}`` when the body is none). 502 ``provider_unavailable`` when
    no answer comes, the URL is refused (a setting pointing to a private host not in SOCIAL_ALLOWED_HOSTS),
    the provider fails (5xx) or the answer is not a JSON object."""
    guard = _guard.get()
    if guard is not None:
        guard()
    try:
        answer = outbound.request("GET", url, headers={"Accept": "application/json"}, setting=setting,
                                  allowed_hosts=settings.SOCIAL_ALLOWED_HOSTS,
                                  connect_timeout=settings.SOCIAL_CONNECT_TIMEOUT_SECONDS,
                                  timeout=settings.SOCIAL_TIMEOUT_SECONDS, max_bytes=MAX_ANSWER_BYTES)
    except outbound.Unreachable:
        raise provider_unavailable(provider, "no answer") from None
    except DownloadError:
        raise provider_unavailable(provider, f"{setting} is refused: a private address not in "
                                             "SOCIAL_ALLOWED_HOSTS, or no such host") from None
    if answer.status >= 500 or not answer.complete:
        raise provider_unavailable(provider, f"HTTP {answer.status}" if answer.complete else "answer too large")
    try:
        data = json.loads(answer.body) if answer.body.strip() else {}
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise provider_unavailable(provider, f"HTTP {answer.status} without a JSON object")
    return JsonAnswer(answer.status, data, answer.headers)
