"""Checks and builders shared by the attribute tests (their fixtures are in conftest.py)."""

import re


ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
UNKNOWN_ID = "0123456789abcdef01234567"
DEFINITIONS = "user_attribute/definition"

# The SDK 3.4.2's Joi schemas (UserPlatformModel.js), as JSON types: "string" never null, "number" a JSON
# number, "boolean" a JSON boolean.
DEFINITION_SCHEMA = {
    "_id": "string", "name": "string", "slug": "string", "description": "string", "application_id": "string",
    "type": "string", "icon": "string", "ordering_channels": "string[]", "masking": "flags",
    "registration": "flags", "is_multi_value": "boolean", "customer_editable": "boolean", "encrypted": "boolean",
    "pinned": "boolean", "pin_order": "number", "validations": "validations", "is_locked": "boolean",
    "created_at": "string", "modified_at": "string", "__v": "number",
    # UserAttributeDefinitionDetails adds:
    "created_by": "string", "updated_by": "string",
}
ATTRIBUTE_SCHEMA = {
    "_id": "string", "name": "string", "user_id": "string", "application_id": "string",
    "user_attribute_definition_id": "string", "created_at": "string", "updated_at": "string", "type": "string",
    "customer_overridden": "boolean", "attribute": "attribute", "updated_by": "string",
}


def _check(value, kind: str, path: str):
    if kind == "string":
        assert isinstance(value, str), f"{path} should be a string, got {value!r}"
    elif kind == "number":
        assert isinstance(value, (int, float)) and not isinstance(value, bool), f"{path} should be a number"
    elif kind == "boolean":
        assert isinstance(value, bool), f"{path} should be a boolean, got {value!r}"
    elif kind == "string[]":
        assert isinstance(value, list) and all(isinstance(v, str) for v in value), path
    elif kind == "flags":
        assert isinstance(value, dict), path
        assert isinstance(value["enabled"], bool) and isinstance(value["type"], str), path
    elif kind == "validations":
        assert isinstance(value, list), path
        for item in value:
            assert isinstance(item, dict) and isinstance(item["type"], str) and "value" in item, path
    elif kind == "attribute":
        assert isinstance(value, dict) and value, path
        assert all(isinstance(k, str) and k.strip() for k in value), path
    else:
        raise AssertionError(kind)


def assert_shape(item: dict, schema: dict, name: str = "item") -> dict:
    """Every key of the SDK schema is present with its JSON type (extra keys are allowed by the SDK)."""
    assert isinstance(item, dict), item
    for key, kind in schema.items():
        assert key in item, f"{name} lacks {key}"
        _check(item[key], kind, f"{name}.{key}")
    return item


def assert_definition(item: dict) -> dict:
    assert_shape(item, DEFINITION_SCHEMA, "definition")
    assert OBJECT_ID.match(item["_id"])
    assert ISO_MS_Z.match(item["created_at"]) and ISO_MS_Z.match(item["modified_at"])
    assert item["multi_value"] == item["is_multi_value"]
    return item


def assert_attribute(item: dict) -> dict:
    assert_shape(item, ATTRIBUTE_SCHEMA, "attribute")
    assert OBJECT_ID.match(item["_id"])
    assert ISO_MS_Z.match(item["created_at"]) and ISO_MS_Z.match(item["updated_at"])
    assert item["customer_overriden"] == item["customer_overridden"]
    assert "value" in item["attribute"]
    return item


def value_path(url, definition_id: str, user_id: str, **kwargs) -> str:
    return url(f"{DEFINITIONS}/{definition_id}/user/{user_id}", **kwargs)


def put_value(api, url, definition_id: str, user_id: str, value, **body):
    return api.put(value_path(url, definition_id, user_id), {"attribute": {"value": value}, **body}, format="json")


def set_value(api, url, definition_id: str, user_id: str, value, **body) -> dict:
    response = put_value(api, url, definition_id, user_id, value, **body)
    assert response.status_code in (200, 201), response.content
    return assert_attribute(response.json())
