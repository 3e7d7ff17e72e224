"""Strict DRF fields: a wrong JSON type is a 400, never silently coerced."""

import json

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.errors import ValidationFailed
from core.ids import is_object_id


class WholeNumber(serializers.IntegerField):
    """A JSON number without a fraction (1.0 is 1; "60", true and 1.5 are refused) between ``minimum`` and
    ``maximum``; ``unit`` names what is counted in the messages (e.g. "seconds")."""

    default_error_messages = {"invalid": "must be a number.", "null": "must be a number.",
                              "not_whole": "must be a whole number."}

    def __init__(self, minimum, maximum, *, unit: str = "", **kwargs):
        between = f"must be between {minimum} and {maximum}{' ' + unit if unit else ''}."
        kwargs.setdefault("required", False)
        super().__init__(min_value=minimum, max_value=maximum,
                         error_messages={"min_value": between, "max_value": between}, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        if isinstance(data, float):
            if not data.is_integer():
                self.fail("not_whole")
            data = int(data)
        return data


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "integer"}]})
class StringOrIntegerField(serializers.Field):
    """Country codes arrive as "91" or 91."""

    default_error_messages = {"invalid": "Must be a number or a string of digits."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (str, int)):
            self.fail("invalid")
        raw = str(data).strip()
        text = raw.lstrip("+")
        if raw and not text.isdigit():  # "" means the default; "+" alone is not a code
            self.fail("invalid")
        return text

    def to_representation(self, value):
        return value


class JSONObjectField(serializers.JSONField):
    default_error_messages = {
        "invalid": "Must be a JSON object.",
        "too_big": "Must be at most {max_bytes} bytes.",
        "too_deep": "Must not be nested more than {max_depth} levels deep.",
        "bad_text": "Texts in it (keys and values) must not contain NUL characters or unpaired surrogates.",
    }

    def __init__(self, *args, max_bytes: int = 16384, max_depth: int = 32, **kwargs):
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("invalid")
        problem = _unstorable(data, self.max_depth)  # before json.dumps, which recurses
        if problem:
            self.fail(problem, max_depth=self.max_depth)
        if len(json.dumps(data)) > self.max_bytes:
            self.fail("too_big", max_bytes=self.max_bytes)
        return data


def _unstorable(data, max_depth: int) -> str | None:
    """What PostgreSQL jsonb (NUL, lone surrogates) or the JSON encoder (deep nesting) would refuse."""
    stack = [(data, 1)]
    while stack:  # iterative, so that a deep object cannot blow the stack here
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > max_depth:
                return "too_deep"
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
        elif isinstance(item, str):
            if "\x00" in item:
                return "bad_text"
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "bad_text"
    return None


class ObjectIdField(StrictCharField):
    default_error_messages = {"object_id": "Must be a 24-character lowercase hexadecimal id."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not is_object_id(value):
            self.fail("object_id")
        return value


def require_object_id(value, field: str) -> str:
    """``value`` if it is a 24-hex ObjectId, else the 400 that every operation answers for a malformed id
    (before any lookup, so that nothing reaches the database with it)."""
    if not is_object_id(value):
        raise ValidationFailed(f"{field} must be 24 lowercase hexadecimal characters, got {str(value)[:40]!r}.")
    return value


def refuse_nul(text: str, name: str) -> str:
    """``text`` unless it holds a NUL character, which PostgreSQL text cannot store or match: a 400."""
    if "\x00" in text:
        raise ValidationFailed(f"{name} must not contain NUL characters.")
    return text
