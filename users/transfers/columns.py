"""Extra columns of an import file: columns other apps read (the attributes app: one column per attribute
definition slug), so that the import never imports those apps.

An app registers a ``ColumnProvider`` when it is ready (``register_column_provider``). For each file:

1. ``claim(application, names)``: of the header's lower-cased names that are no customer column, the
   ones the provider reads (they are then not "unknown");
2. per chunk, in the chunk's transaction: ``open_chunk(application, names)`` (the names the chunk's rows
   fill; e.g. lock what the values depend on) gives a ``ChunkColumns``;
3. ``parse(cells)`` checks a row's cells (name -> non-blank text): a ServiceError refuses the row, with
   its message, before anything of the row is written; the parsed value goes to
4. ``store(customer_id, parsed, actor)``, once the row's customer is written.
"""

from __future__ import annotations

from typing import Any, Protocol

from core.actors import Actor


class ChunkColumns(Protocol):
    def parse(self, cells: dict[str, str]) -> Any: ...

    def store(self, customer_id: str, parsed: Any, actor: Actor) -> None: ...


class ColumnProvider(Protocol):
    key: str  # names the provider in the parsed rows
    hint: str  # ends "the file has unknown column(s) …: use first_name, …, or <hint>."

    def claim(self, application, names: list[str]) -> set[str]: ...

    def open_chunk(self, application, names: set[str]) -> ChunkColumns: ...


_providers: dict[str, ColumnProvider] = {}


def register_column_provider(provider: ColumnProvider) -> None:
    _providers[provider.key] = provider


def providers() -> list[ColumnProvider]:
    """In registration order: when two read the same name, the first one does."""
    return list(_providers.values())


def provider(key: str) -> ColumnProvider:
    return _providers[key]
