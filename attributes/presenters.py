"""Definitions and values as the SDK's UserAttributeDefinition(Details) / UserAttribute schemas expect
them: strings never null, numbers and booleans as JSON numbers and booleans. Extra keys are allowed by
the SDK and carry the seed's spellings (multi_value, customer_overriden) next to the SDK's."""

from attributes import selectors
from attributes.models import AttributeDefinition, UserAttribute
from attributes.schema import Attribute, Definition, Flags
from core.timefmt import iso


def _flags(value: dict | None) -> Flags:
    value = value or {}
    return {"enabled": bool(value.get("enabled", False)), "type": str(value.get("type", "") or "")}


def definition_dict(definition: AttributeDefinition) -> Definition:
    return {
        "_id": definition.id,
        "name": definition.name,
        "slug": definition.slug,
        "description": definition.description,
        "application_id": definition.application_id,
        "type": definition.type,
        "icon": definition.icon,
        "ordering_channels": [str(c) for c in definition.ordering_channels or []],
        "masking": _flags(definition.masking),
        "registration": _flags(definition.registration),
        "multi_value": definition.multi_value,
        "is_multi_value": definition.multi_value,
        "customer_editable": definition.customer_editable,
        "encrypted": definition.encrypted,
        "pinned": definition.pinned,
        "pin_order": definition.pin_order,
        "default_value": definition.default_value,
        "validations": [{"type": v["type"], "value": v["value"]} for v in definition.validations or []],
        "is_locked": definition.is_locked,
        "created_by": definition.created_by,
        "updated_by": definition.updated_by,
        "created_at": iso(definition.created_at),
        "modified_at": iso(definition.updated_at),
        "updated_at": iso(definition.updated_at),
        "__v": definition.version,
    }


def attribute_dict(attribute: UserAttribute, definition: AttributeDefinition | None = None) -> Attribute:
    """A customer's value; the value in ``attribute.value`` (decrypted when the definition is encrypted)."""
    definition = definition or attribute.definition
    return {
        "_id": attribute.id,
        "name": definition.name,
        "slug": definition.slug,
        "user_id": attribute.customer_id,
        "application_id": attribute.application_id,
        "user_attribute_definition_id": definition.id,
        "type": definition.type,
        "multi_value": definition.multi_value,
        "encrypted": definition.encrypted,
        "customer_overridden": attribute.customer_overridden,
        "customer_overriden": attribute.customer_overridden,
        "attribute": {"value": selectors.value_of(attribute)},
        "created_by": attribute.created_by,
        "updated_by": attribute.updated_by,
        "created_at": iso(attribute.created_at),
        "updated_at": iso(attribute.updated_at),
        "__v": attribute.version,
    }
