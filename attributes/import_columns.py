"""Attribute columns of a customer import file: a column named after one of the application's attribute
definition slugs (case-insensitive) sets that attribute of the row's customer (users.transfers.columns)."""

from __future__ import annotations

import json

from core.actors import Actor
from core.api.errors import ValidationFailed
from attributes import services, types
from attributes.bulk import definitions_by_slug


class AttributeColumns:
    key = "attributes"
    hint = "the slug of one of this application's attribute definitions"

    def claim(self, application, names: list[str]) -> set[str]:
        return set(definitions_by_slug(application, names)) if names else set()

    def open_chunk(self, application, names: set[str]) -> ChunkAttributes:
        """The definitions, held FOR KEY SHARE (as value writes do) until the chunk commits."""
        return ChunkAttributes(definitions_by_slug(application, names, lock=True) if names else {})


class ChunkAttributes:
    def __init__(self, definitions: dict):
        self.definitions = definitions  # lower-cased slug -> AttributeDefinition

    def parse(self, cells: dict[str, str]) -> list:
        """[(definition, validated value)] of the row's cells (types.coerce_text, services.validate_value)."""
        values = []
        for slug, text in cells.items():
            definition = self.definitions.get(slug)
            if definition is None:
                raise ValidationFailed(f"no attribute definition with slug {slug!r} in this application.")
            spec = types.Spec.of(definition)
            try:
                if spec.multi_value:
                    try:
                        decoded = json.loads(text)
                    except ValueError:
                        raise types.ValueInvalid("multi_value", "must be a JSON list such as [\"a\", \"b\"].")
                    raw = [types.coerce_text(spec.type, item) if isinstance(item, str) else item
                           for item in decoded] if isinstance(decoded, list) else decoded
                else:
                    raw = types.coerce_text(spec.type, text)
            except types.ValueInvalid as exc:
                raise ValidationFailed(f"Attribute '{definition.slug}': the value {exc.message}")
            values.append((definition, services.validate_value(definition, raw, spec)))
        return values

    def store(self, customer_id: str, parsed: list, actor: Actor) -> None:
        """Through services.store_value: the value, its typed index rows and its audit event."""
        for definition, value in parsed:
            services.store_value(definition, customer_id, value, actor)
