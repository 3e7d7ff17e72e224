"""Job handlers: what a job kind does (its chunks, how one is applied, how it finishes), registered by kind."""

import dataclasses
from functools import cache
from importlib import import_module
from typing import Any, ClassVar, NamedTuple

from django.conf import settings

from core.api.errors import ServiceError


class RowError(NamedTuple):
    row_number: int | None  # None: a problem of the whole chunk, not of one row
    reference: str  # what the row is about, e.g. its user id or email
    message: str


class ChunkResult(NamedTuple):
    success: int
    errors: list  # of RowError or (row_number, reference, message)


@dataclasses.dataclass(frozen=True)
class NoPayload:
    """The payload of a kind whose jobs carry none."""


class JobHandler:
    """Base of the handlers. ``Payload`` (a frozen dataclass) is the shape of ``job.payload`` for the
    kind; ``self.payload(job)`` reads it typed. See the package docstring for the contract."""

    action_type: ClassVar[str] = ""  # BulkActionModel.action_type; empty: the kind
    Payload: ClassVar[type] = NoPayload

    def payload(self, job) -> Any:
        """``job.payload`` as a ``Payload``. Keys it does not declare are ignored (jobs stored by an
        older or newer version, keys the shared helpers record); missing optional ones take their
        defaults; a missing required one fails the job (ServiceError) with a message naming it."""
        stored = job.payload if isinstance(job.payload, dict) else {}
        names, required = _shape(self.Payload)
        missing = [name for name in required if name not in stored]
        if missing:
            raise ServiceError(f"the payload of this {job.kind} job has no {', '.join(missing)}: it cannot run.",
                               code="job_payload_invalid")
        return self.Payload(**{key: value for key, value in stored.items() if key in names})

    def chunks(self, job, checkpoint):
        raise NotImplementedError

    def apply(self, job, rows) -> ChunkResult:
        raise NotImplementedError

    def finish(self, job) -> None:
        """Once, after the last chunk, in the transaction that completes the job (must be idempotent)."""


@cache
def _shape(payload_class: type) -> tuple[frozenset, tuple]:
    """(field names, names of the fields without a default) of a Payload dataclass."""
    fields = dataclasses.fields(payload_class)
    required = tuple(f.name for f in fields
                     if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
    return frozenset(f.name for f in fields), required


def payload_dict(payload) -> dict:
    """A Payload as the ``payload`` to create its job with: its fields, except the optional ones left
    None (absent, as the shared helpers expect). Shallow: a large list is stored as it is, not copied."""
    return {f.name: value for f in dataclasses.fields(payload)
            if (value := getattr(payload, f.name)) is not None}


_handlers: dict[str, JobHandler] = {}


def register(kind: str):
    """Class or instance decorator: ``@register("customer_export")`` makes it the handler of that kind."""

    def decorator(handler):
        _handlers[kind] = handler() if isinstance(handler, type) else handler
        return handler

    return decorator


def handler_for(kind: str):
    try:
        return _handlers[kind]
    except KeyError:
        raise LookupError(f"no job handler is registered for kind {kind!r}") from None


_ended_hooks: list = []


def on_job_ended(hook) -> None:
    """``hook(job)`` runs when a job ends (completed, with errors, or failed), in the transaction that
    records the end: what a hook writes (users' summary event) commits with it or not at all."""
    if hook not in _ended_hooks:
        _ended_hooks.append(hook)


def job_ended(job) -> None:
    for hook in _ended_hooks:
        hook(job)


def load_handler_modules() -> None:
    """Import the JOB_HANDLER_MODULES (extra handlers, e.g. the tests' in a real worker)."""
    for module in settings.JOB_HANDLER_MODULES:
        import_module(module)
