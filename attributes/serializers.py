"""Request shapes of the attribute operations (JSON types; the rules live in services and types)."""

from rest_framework import serializers

from core.api.fields import JSONObjectField, ObjectIdField, StrictBooleanField, StrictCharField


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"invalid": "Must be a whole number."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, float)) or \
                (isinstance(data, float) and not data.is_integer()):
            self.fail("invalid")
        return super().to_internal_value(int(data))


class AnyJSONField(serializers.JSONField):
    """Any JSON value, untouched (types.py decides what it may be)."""


class ObjectField(serializers.JSONField):
    """A JSON object, its contents untouched (types.py checks the value inside)."""

    default_error_messages = {"invalid": "Must be a JSON object."}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("invalid")
        return data


def text(max_length: int, **kwargs):
    return StrictCharField(max_length=max_length, required=False, allow_blank=True, trim_whitespace=True, **kwargs)


class FlagsSerializer(serializers.Serializer):
    """AttributeMaskingProperties / AttributeRegistrationProperties."""

    enabled = StrictBooleanField(required=False, default=False)
    type = StrictCharField(max_length=50, required=False, allow_blank=True, default="")


class DefinitionSerializer(serializers.Serializer):
    """CreateUserAttributeDefinition (create and update; an update sets only the fields sent)."""

    name = text(200)
    slug = text(100, help_text="Derived from the name when absent (unique in the application).")
    description = text(2000)
    type = StrictCharField(max_length=20, required=False,
                           help_text="string, number, boolean, date, datetime or json (text = string).")
    multi_value = StrictBooleanField(required=False)
    is_multi_value = StrictBooleanField(required=False, help_text="The SDK's name of multi_value.")
    customer_editable = StrictBooleanField(required=False)
    encrypted = StrictBooleanField(required=False)
    pinned = StrictBooleanField(required=False)
    pin_order = StrictIntegerField(required=False, min_value=0, max_value=1_000_000)
    is_locked = StrictBooleanField(required=False)
    default_value = AnyJSONField(required=False, allow_null=True)
    validations = serializers.ListField(child=JSONObjectField(max_bytes=8192), required=False, max_length=20,
                                        help_text='[{"type": "max_length", "value": 20}, ...]')
    icon = text(500)
    ordering_channels = serializers.ListField(child=StrictCharField(max_length=100, allow_blank=True),
                                              required=False, max_length=50)
    masking = FlagsSerializer(required=False)
    registration = FlagsSerializer(required=False)


class UserAttributeBodySerializer(serializers.Serializer):
    """CreateUserAttribute: {"customer_overridden"?, "attribute": {"value": ...}}."""

    customer_overridden = StrictBooleanField(required=False)
    customer_overriden = StrictBooleanField(required=False, help_text="The seed's spelling.")
    attribute = ObjectField(help_text='{"value": ...}: a value of the definition\'s type, a list when multi value.')

    def validate_attribute(self, attribute):
        if "value" not in attribute:
            raise serializers.ValidationError('Must be an object {"value": ...}.')
        if attribute["value"] is None:
            raise serializers.ValidationError("value must not be null (deleteUserAttribute removes a value).")
        return attribute

    def validate(self, data):
        one, other = data.get("customer_overridden"), data.get("customer_overriden")
        if one is not None and other is not None and one != other:
            raise serializers.ValidationError("customer_overridden and customer_overriden disagree.")
        data["customer_overridden"] = one if one is not None else other
        return data


class BulkAttributeItemSerializer(serializers.Serializer):
    definition_id = ObjectIdField()
    value = AnyJSONField(allow_null=True)


class BulkUserAttributeSerializer(serializers.Serializer):
    """CreateBulkUserAttribute: {"attributes": [{"definition_id", "value"}, ...]}."""

    attributes = BulkAttributeItemSerializer(many=True, allow_empty=False, max_length=100)


class DeleteBulkUserAttributeSerializer(serializers.Serializer):
    """DeleteBulkUserAttribute: {"definition_ids": [...]}."""

    definition_ids = serializers.ListField(child=ObjectIdField(), allow_empty=False, max_length=100)
