"""Job handlers: what a job kind does (its chunks, how one is applied, how it finishes), registered by kind."""

from importlib import import_module
from typing import Any, ClassVar, NamedTuple

from django.conf import settings


class RowError(NamedTuple):
    row_number: int | None  # None: a problem of the whole chunk, not of one row
    reference: str  # what the row is about, e.g. its user id or email
    message: str


class ChunkResult(NamedTuple):
    success: int
    errors: list  # of RowError or (row_number, reference, message)


class JobHandler:
    """Base of the handlers. ``Payload`` (a dataclass) is the shape of ``job.payload`` for the kind;
    ``self.payload(job)`` reads it typed. See the package docstring for the contract."""

    action_type: ClassVar[str] = ""  # BulkActionModel.action_type; empty: the kind
    Payload: ClassVar[type | None] = None

    def payload(self, job) -> Any:
        return self.Payload(**job.payload) if self.Payload else job.payload

    def chunks(self, job, checkpoint):
        raise NotImplementedError

    def apply(self, job, rows) -> ChunkResult:
        raise NotImplementedError

    def finish(self, job) -> None:
        """Once, after the last chunk, in the transaction that completes the job (must be idempotent)."""


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


def load_handler_modules() -> None:
    """Import the JOB_HANDLER_MODULES (extra handlers, e.g. the tests' in a real worker)."""
    for module in settings.JOB_HANDLER_MODULES:
        import_module(module)
