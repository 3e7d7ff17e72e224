"""Strict DRF fields: a wrong JSON type is a 400, never silently coerced."""

import json

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


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
        text = str(data).strip().lstrip("+")
        if text and not text.isdigit():
            self.fail("invalid")
        return text

    def to_representation(self, value):
        return value


class JSONObjectField(serializers.JSONField):
    default_error_messages = {"invalid": "Must be a JSON object.", "too_big": "Must be at most {max_bytes} bytes."}

    def __init__(self, *args, max_bytes: int = 16384, **kwargs):
        self.max_bytes = max_bytes
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("invalid")
        if len(json.dumps(data)) > self.max_bytes:
            self.fail("too_big", max_bytes=self.max_bytes)
        return data


class ObjectIdField(StrictCharField):
    default_error_messages = {"object_id": "Must be a 24-character lowercase hexadecimal id."}

    def to_internal_value(self, data):
        from core.ids import is_object_id

        value = super().to_internal_value(data)
        if not is_object_id(value):
            self.fail("object_id")
        return value
