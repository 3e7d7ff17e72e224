"""Request shapes of the attribute operations (JSON types; the rules live in services and types).

The bulk updates and filterUsersByAttributes answer one sentence naming where the problem is
("attribute[0].value is required.", "query.page must be a whole number from 1 to 1000000."): their
serializers are ``SentenceErrors`` and their field messages are written to follow the path (see
attributes.errors.sentence).
"""

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from attributes.errors import SentenceErrors
from core.api.errors import ValidationFailed, first_message
from core.api.fields import JSONObjectField, ObjectIdField, StrictBooleanField, StrictCharField

MAX_BULK_ATTRIBUTES = 100  # {key, value} pairs per customer in a bulk update
MAX_BULK_USERS = 100_000  # customers named in one bulk update body (more: a user_file_url)
MAX_FILTER_DEFINITION_IDS = 100
MAX_FILTER_TEXT = 320  # characters of the filter's email / phone


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


# --------------------------------------------------------------------------- validation helpers

def checked(serializer_class, data, *, partial: bool = False) -> dict:
    """``core.api.views.validated`` where there is no request (a command, an admin form): the validated
    data, or ValidationFailed with the message the API would answer."""
    serializer = serializer_class(data=data, partial=partial)
    if not serializer.is_valid():
        raise ValidationFailed(first_message(serializer.errors)[0])
    return serializer.validated_data


def _messages(message: str, *keys: str) -> dict:
    return dict.fromkeys(keys, message)


def _literal(message: str) -> str:
    """A message that DRF passes through str.format (most of them): its braces kept as they are."""
    return message.replace("{", "{{").replace("}", "}}")


# --------------------------------------------------------------------------- bulk updates

PAIRS_SCHEMA = {"type": "array", "minItems": 1, "maxItems": MAX_BULK_ATTRIBUTES, "items": {
    "type": "object", "required": ["key", "value"],
    "properties": {"key": {"type": "string", "description": "A definition's slug (any case)."},
                   "value": {"description": "A value of the definition's type."}}}}


@extend_schema_field(PAIRS_SCHEMA)
class AttributePairsField(serializers.Field):
    """[{"key": slug, "value": ...}, ...], each slug once. Checked in one pass rather than by a
    serializer per pair (about five times faster): a bulk body may carry the pairs of 100,000 customers."""

    default_error_messages = {
        **_messages(_literal("must be a non-empty list of {key, value}."), "required", "null", "invalid"),
        "max_length": ": at most {max_length} attributes.",
        "repeated": ": {slugs} is listed more than once.",
    }
    ITEM_ERRORS = {"pair": "must be an object {key, value}.", "key": "must be the slug of an attribute definition.",
                   "value": "is required."}

    def to_internal_value(self, data):
        if not isinstance(data, list) or not data:  # absent and null too, when in a bulk_update/per_user item
            self.fail("invalid")
        if len(data) > MAX_BULK_ATTRIBUTES:
            self.fail("max_length", max_length=MAX_BULK_ATTRIBUTES)
        pairs, seen, repeated = [], set(), set()
        for index, pair in enumerate(data):
            if not isinstance(pair, dict):
                raise serializers.ValidationError({index: [self.ITEM_ERRORS["pair"]]})
            key = pair.get("key")
            if not isinstance(key, str) or not key.strip() or "\x00" in key:
                raise serializers.ValidationError({index: {"key": [self.ITEM_ERRORS["key"]]}})
            if "value" not in pair:
                raise serializers.ValidationError({index: {"value": [self.ITEM_ERRORS["value"]]}})
            key = key.strip()
            (repeated if key.lower() in seen else seen).add(key.lower())
            pairs.append({"key": key, "value": pair["value"]})
        if repeated:
            self.fail("repeated", slugs=", ".join(sorted(repeated)))
        return pairs

    def to_representation(self, value):
        return value


class BulkAttributesSerializer(SentenceErrors, serializers.Serializer):
    """The attributes of a bulk_update, alone (manage.py bulk_update_attributes)."""

    attribute = AttributePairsField()


class BulkUpdateSerializer(BulkAttributesSerializer):
    """bulk_update: the same attributes for the customers listed in ``users`` or in the CSV at
    ``user_file_url``."""

    users = serializers.ListField(
        child=StrictCharField(allow_blank=True, error_messages=_messages("must be a user id (a string).",
                                                                         "invalid", "null")),
        required=False, allow_null=True, max_length=MAX_BULK_USERS,
        error_messages={**_messages("must be a list of user ids.", "not_a_list", "null"),
                        "max_length": f": at most {MAX_BULK_USERS:,} ids in a request; use user_file_url."},
        help_text="User ids (each checked when applied: a bad one is that customer's error).")
    user_file_url = StrictCharField(required=False, allow_null=True, allow_blank=True, trim_whitespace=False,
                                    error_messages={"invalid": "must be a URL."},
                                    help_text="A CSV with a user_id column, downloaded by the job.")
    attribute = AttributePairsField(help_text="The same for every customer.")

    def validate(self, data):
        if (not data.get("users")) == (not data.get("user_file_url")):
            raise serializers.ValidationError("Give either users (a list of user ids) or user_file_url (a CSV of "
                                              "user ids).")
        return data


@extend_schema_field({"type": "array", "minItems": 1, "maxItems": MAX_BULK_USERS, "items": {
    "type": "object", "required": ["user_id", "attributes"],
    "properties": {"user_id": {"type": "string"}, "attributes": PAIRS_SCHEMA}}})
class UserAttributeDetailsField(serializers.Field):
    """[{"user_id", "attributes": [{key, value}, ...]}, ...], in one pass like AttributePairsField."""

    default_error_messages = {
        **_messages(_literal("is required: a list of {user_id, attributes}."), "required", "null", "invalid"),
        "empty": "must not be empty.",
        "max_length": f": at most {MAX_BULK_USERS:,} customers in a request.",
    }
    ITEM_ERRORS = {"detail": "must be an object {user_id, attributes}.", "user_id": "is required.",
                   "nul": "must not contain NUL characters."}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.pairs = AttributePairsField()

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("invalid")
        if not data:
            self.fail("empty")
        if len(data) > MAX_BULK_USERS:
            self.fail("max_length")
        details = []
        for index, detail in enumerate(data):
            if not isinstance(detail, dict):
                raise serializers.ValidationError({index: [self.ITEM_ERRORS["detail"]]})
            user_id = detail.get("user_id")
            if not isinstance(user_id, str) or "\x00" in user_id:
                problem = "user_id" if not isinstance(user_id, str) else "nul"
                raise serializers.ValidationError({index: {"user_id": [self.ITEM_ERRORS[problem]]}})
            try:
                pairs = self.pairs.to_internal_value(detail.get("attributes"))
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({index: {"attributes": exc.detail}}) from exc
            details.append({"user_id": user_id.strip(), "attributes": pairs})
        return details

    def to_representation(self, value):
        return value


class BulkUpdatePerUserSerializer(SentenceErrors, serializers.Serializer):
    """bulk_update/per_user: different attributes per customer."""

    user_detail_attributes = UserAttributeDetailsField()


# --------------------------------------------------------------------------- filterUsersByAttributes

class WholeNumberField(serializers.Field):
    """A whole number from ``low`` to ``high``, sent as a JSON number or as decimal text."""

    def __init__(self, *, low: int, high: int, **kwargs):
        self.low, self.high = low, high
        message = f"must be a whole number from {low} to {high}."
        super().__init__(error_messages=_messages(message, "invalid", "null"), **kwargs)
        extend_schema_field({  # on the instance: the bounds are its own
            "anyOf": [{"type": "integer", "minimum": low, "maximum": high},
                      {"type": "string", "pattern": r"^\s*\d+\s*$"}],
            "description": f"A whole number from {low} to {high}, as a JSON number or as decimal text."})(self)

    def to_internal_value(self, data):
        if isinstance(data, str) and data.strip().isdecimal():
            data = int(data.strip())
        if isinstance(data, float) and data.is_integer():
            data = int(data)
        if isinstance(data, bool) or not isinstance(data, int) or not self.low <= data <= self.high:
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


class FilterTextField(StrictCharField):
    """An exact email or phone number; absent, null and "" mean no narrowing."""

    def __init__(self, **kwargs):
        message = f"must be text of at most {MAX_FILTER_TEXT} characters."
        super().__init__(required=False, allow_null=True, allow_blank=True, max_length=MAX_FILTER_TEXT,
                         error_messages=_messages(message, "invalid", "max_length"), **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:  # before DRF's own check, which words it otherwise
            self.fail("invalid")
        return super().to_internal_value(data)


class FilterQuerySerializer(serializers.Serializer):
    """The SDK's UserAttributeFilterQuery. ``type`` and ``conditions`` are checked against the
    application's definitions by attributes.conditions."""

    default_error_messages = {"invalid": _literal('is required: {"query": {"type", "page", "limit", "conditions"}}.')}

    type = AnyJSONField(required=False, allow_null=True, help_text="and | or")
    conditions = AnyJSONField(allow_null=True, error_messages={"required": "is required (a list, may be empty)."},
                              help_text='[{"definition_id", "type": operator, "value"}]')
    page = WholeNumberField(low=1, high=1_000_000, required=False, default=1)
    limit = WholeNumberField(low=1, high=settings.MAX_PAGE_SIZE, required=False, default=10)
    email = FilterTextField()
    phone = FilterTextField()
    definition_ids = serializers.ListField(
        child=ObjectIdField(error_messages=_messages("must be an attribute definition id.", "invalid", "object_id",
                                                     "null")),
        required=False, allow_null=True, max_length=MAX_FILTER_DEFINITION_IDS,
        error_messages=_messages(f"must be a list of at most {MAX_FILTER_DEFINITION_IDS} attribute definition "
                                 "ids.", "not_a_list", "max_length"),
        help_text="The definitions whose values come back (absent: all; []: none).")


class FilterUsersSerializer(SentenceErrors, serializers.Serializer):
    """UserAttributeFilter: {"query": {...}}."""

    query = FilterQuerySerializer(error_messages=_messages(FilterQuerySerializer.default_error_messages["invalid"],
                                                           "required", "null"))
