"""Request shapes of the group operations: JSON types checked, values normalised; the rules (which
fields go with which type, what must exist) live in groups/services.py.

Bodies: CreateUserGroup (createUserGroup), UpdateUserGroupSchema (updateUserGroup, PUT) and
PartialUserGroupUpdateSchema (updateUserGroupPartially, PATCH) of the SDK 3.4.2, plus seed 002's
``blacklisted_users`` / ``whitelisted_users`` and ``tags``. Unknown keys are ignored, as the SDK allows;
``null`` is the same as leaving a key out. The API uses them through core.api.views.validated(), the
admin through :func:`checked`. A refusal is the service's ValidationFailed with the API's sentence
("name must be a string."), raised by the first field that refuses, in the order declared.
"""

from __future__ import annotations

import json

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField, empty

from core.api.errors import ValidationFailed
from core.api.fields import refuse_nul
from core.ids import is_object_id
from groups import states

MAX_TAGS = 50
PATCH_SOURCES = {"file_url": "file_url", "file": "file_url", "csv": "file_url", "url": "file_url", "json": "json"}
USER_DATA_KEYS = ("user_id", "email", "phone_number")


def _field_error(name: str, message: str, detail: str) -> ValidationFailed:
    return ValidationFailed(message, meta={"errors": {name: [detail]}})


class _GroupField(serializers.Field):
    """null is the same as absent: a required field refuses both, an optional one leaves the key out
    (``allow_null`` only tells the OpenAPI document so: validate_empty_values decides)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", not kwargs["required"])
        super().__init__(**kwargs)

    def validate_empty_values(self, data):
        if data is empty or data is None:
            if self.required:
                raise _field_error(self.field_name, f"{self.field_name} is required.", "This field is required.")
            raise SkipField()
        return False, data

    def to_representation(self, value):
        return value


@extend_schema_field({"type": "string"})  # no maxLength: the limit applies to the trimmed text
class GroupTextField(_GroupField):
    def __init__(self, *, max_length: int, allow_blank: bool = False, **kwargs):
        self.max_length, self.allow_blank = max_length, allow_blank
        kwargs.setdefault("help_text", f"At most {max_length} characters, leading and trailing spaces trimmed.")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        name = self.field_name
        if not isinstance(data, str):
            raise _field_error(name, f"{name} must be a string.", "Must be a string.")
        value = data.strip()
        if not value and self.required:
            raise _field_error(name, f"{name} must not be blank.", "Must not be blank.")
        if len(value) > self.max_length:
            raise ValidationFailed(f"{name} must be at most {self.max_length} characters.")
        refuse_nul(value, name)
        if not value and not self.allow_blank:
            raise ValidationFailed(f"{name} must not be blank.")
        return value


@extend_schema_field({"type": "string", "description": "An http or https URL of a CSV file (at most 2000 "
                                                     "characters, trimmed; \"\" is none)."})
class FileUrlField(_GroupField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise ValidationFailed("file_url must be a string (an http or https URL of a CSV file).")
        value = data.strip()
        if len(value) > 2000:
            raise ValidationFailed("file_url must be at most 2000 characters.")
        if not value:
            raise SkipField()
        return value


@extend_schema_field({"type": "array", "maxItems": settings.GROUP_MAX_LISTED_USERS,
                      "items": {"type": "string", "description": "A customer's 24-hex id (any case)."}})
class UserIdsField(_GroupField):
    """whitelisted_users / blacklisted_users: customer ids, lower-cased, each once."""

    def to_internal_value(self, data):
        name = self.field_name
        if not isinstance(data, list) or not all(isinstance(u, str) for u in data):
            raise ValidationFailed(f"{name} must be a list of user ids.")
        if len(data) > settings.GROUP_MAX_LISTED_USERS:
            raise ValidationFailed(f"{name}: at most {settings.GROUP_MAX_LISTED_USERS} user ids.")
        ids = list(dict.fromkeys(u.strip().lower() for u in data))
        bad = [u for u in ids if not is_object_id(u)]
        if bad:
            listed = ", ".join(repr(b[:40]) for b in bad[:5])
            verb = "is not a user id" if len(bad) == 1 else "are not user ids"
            raise ValidationFailed(f"{name}: {listed} {verb} (24 hex characters).")
        return ids


@extend_schema_field({"type": "array", "maxItems": MAX_TAGS, "items": {
    "type": "string", "minLength": 1, "description": "Not blank, at most 100 characters once trimmed."}})
class TagsField(_GroupField):
    def to_internal_value(self, data):
        if not isinstance(data, list) or not all(isinstance(t, str) and 0 < len(t.strip()) <= 100 for t in data) \
                or len(data) > MAX_TAGS:
            raise ValidationFailed(f"tags must be a list of at most {MAX_TAGS} non-blank strings of up to 100 "
                                   "characters.")
        return list(dict.fromkeys(refuse_nul(t.strip(), "tags") for t in data))


@extend_schema_field({"type": "boolean"})
class FlagField(_GroupField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            raise ValidationFailed(f"{self.field_name} must be true or false.")
        return data


@extend_schema_field({"type": "string", "description": "bulk (also file, csv, json, …) or conditional (also "
                                                     "conditions, attributes, …), any case; \"\" is none."})
class GroupTypeField(_GroupField):
    """bulk or conditional, from any spelling states.normalize_type accepts; "" is no type."""

    def to_internal_value(self, data):
        if data == "":
            raise SkipField()
        return states.normalize_type(data)


def condition_value_text(value, where: str) -> str:
    """A condition's ``value`` as the text the SDK answers (Joi.string()): strings as they are, numbers and
    booleans as JSON ("10", "true"), lists as JSON ('["a","b"]')."""
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, dict):
        raise ValidationFailed(f"{where}.value must be a string, a number, a boolean or a list.",
                               code="invalid_condition")
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


CONDITIONS_SCHEMA = {"type": "array", "items": {
    "type": "object", "required": ["user_attribute_definition_id", "type", "value"],
    "properties": {
        "user_attribute_definition_id": {"type": "string", "description": "An attribute definition's 24-hex id."},
        "type": {"type": "string", "minLength": 1,
                 "description": "eq, ne, gt, lt, gte, lte, btw, cnt, nct, is, nis, sw, ew, in or nin."},
        "value": {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}, {"type": "array"}],
                  "description": "Answered as text: numbers, booleans and lists as JSON."}}}}


@extend_schema_field(CONDITIONS_SCHEMA)
class ConditionsField(_GroupField):
    """[{user_attribute_definition_id, type, value}]: shapes only; attributes.conditions judges them."""

    def to_internal_value(self, data):
        if not isinstance(data, list):
            raise ValidationFailed("conditions must be a list of {user_attribute_definition_id, type, value}.",
                                   code="invalid_condition")
        return [self._condition(item, f"conditions[{i}]") for i, item in enumerate(data)]

    @staticmethod
    def _condition(item, where: str) -> dict:
        if not isinstance(item, dict):
            raise ValidationFailed(f"{where} must be an object.", code="invalid_condition")
        definition_id = item.get("user_attribute_definition_id")
        if not isinstance(definition_id, str) or not is_object_id(definition_id.strip()):
            raise ValidationFailed(f"{where}.user_attribute_definition_id must be the 24-hex id of an attribute "
                                   "definition.", code="invalid_condition")
        operator = item.get("type")
        if not isinstance(operator, str) or not operator.strip():
            raise ValidationFailed(f"{where}.type must be an operator (eq, ne, gt, lt, gte, lte, btw, cnt, nct, "
                                   "is, nis, sw, ew, in, nin).", code="invalid_condition")
        if "value" not in item:
            raise ValidationFailed(f"{where}.value is required.", code="invalid_condition")
        return {"user_attribute_definition_id": definition_id.strip(), "type": operator.strip().lower(),
                "value": condition_value_text(item["value"], where)}


USER_DATA_ITEM_SCHEMA = {
    "type": "object", "required": ["action"],
    "description": "One change; it names the customer by user_id, email or phone_number.",
    "properties": {"action": {"type": "string", "description": "add or remove (any case)."},
                   **{key: {"type": "string", "nullable": True} for key in USER_DATA_KEYS}}}


def user_data_items(raw) -> list[dict]:
    """UserGroupUpdateData items: {user_id | email | phone_number, action: add | remove}; a malformed item
    is a 400 naming it (an item that names no existing customer is an error row of the change instead)."""
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed("user_data must be a non-empty list of {user_id | email | phone_number, action}.")
    if len(raw) > settings.GROUP_MAX_USER_DATA:
        raise ValidationFailed(f"user_data: at most {settings.GROUP_MAX_USER_DATA} items; use file_url for more.")
    items = []
    for i, item in enumerate(raw):
        where = f"user_data[{i}]"
        if not isinstance(item, dict):
            raise ValidationFailed(f"{where} must be an object.")
        action = item.get("action")
        if not isinstance(action, str) or action.strip().lower() not in ("add", "remove"):
            raise ValidationFailed(f"{where}.action must be add or remove.")
        clean = {"action": action.strip().lower()}
        for key in USER_DATA_KEYS:
            value = item.get(key)
            if value is None or value == "":
                continue
            if not isinstance(value, str):
                raise ValidationFailed(f"{where}.{key} must be a string.")
            if value.strip():
                clean[key] = value.strip()[:500]
        if len(clean) == 1:
            raise ValidationFailed(f"{where} must name the customer: user_id, email or phone_number.")
        items.append(clean)
    return items


@extend_schema_field({"type": "array", "minItems": 1, "maxItems": settings.GROUP_MAX_USER_DATA,
                      "items": USER_DATA_ITEM_SCHEMA})
class UserDataField(_GroupField):
    def to_internal_value(self, data):
        return user_data_items(data)


class RawField(_GroupField):
    """A value the serializer's validate() judges together with others."""

    def to_internal_value(self, data):
        return data


# PATCH's type, user_data and conditions are judged together by PatchGroupSerializer.validate().

@extend_schema_field({"type": "string", "description": "file_url (the default) or json (any case)."})
class PatchSourceField(RawField):
    pass


@extend_schema_field({"type": "array", "maxItems": settings.GROUP_MAX_USER_DATA, "items": USER_DATA_ITEM_SCHEMA,
                      "description": "The changes, with type json."})
class PatchUserDataField(RawField):
    pass


@extend_schema_field({"description": "Refused unless null: conditions change with updateUserGroup (PUT)."})
class PatchConditionsField(RawField):
    pass


class _GroupBodySerializer(serializers.Serializer):
    whitelisted_users = UserIdsField()
    blacklisted_users = UserIdsField()
    tags = TagsField()
    is_active = FlagField()


class CreateGroupSerializer(_GroupBodySerializer):
    """createUserGroup: name and description required; type bulk | conditional (or inferred)."""

    name = GroupTextField(max_length=200, required=True)
    description = GroupTextField(max_length=2000, required=True)
    file_url = FileUrlField()
    conditions = ConditionsField()
    type = GroupTypeField()
    user_data = UserDataField()


class UpdateGroupSerializer(_GroupBodySerializer):
    """updateUserGroup (PUT): the fields sent."""

    name = GroupTextField(max_length=200)
    description = GroupTextField(max_length=2000)
    file_url = FileUrlField()
    conditions = ConditionsField()
    type = GroupTypeField()


class PatchGroupSerializer(_GroupBodySerializer):
    """updateUserGroupPartially (PATCH): ``type`` says where the changes come from: file_url (default) or
    json (``user_data``)."""

    name = GroupTextField(max_length=200)
    description = GroupTextField(max_length=2000)
    file_url = FileUrlField()
    type = PatchSourceField()
    user_data = PatchUserDataField()
    conditions = PatchConditionsField()

    def validate(self, attrs):
        raw_type, raw_user_data = attrs.pop("type", None), attrs.pop("user_data", None)
        source = None
        if raw_type not in (None, ""):
            if not isinstance(raw_type, str) or raw_type.strip().lower() not in PATCH_SOURCES:
                raise ValidationFailed("type must be file_url (changes in a CSV file at file_url) or json (changes "
                                       "in user_data).")
            source = PATCH_SOURCES[raw_type.strip().lower()]
        has_user_data = raw_user_data not in (None, [])
        if source is None:
            source = "json" if has_user_data else "file_url"
        if source == "json":
            if "file_url" in attrs:
                raise ValidationFailed("file_url goes with type file_url; with type json send user_data.")
            attrs["user_data"] = user_data_items(raw_user_data)
        elif has_user_data:
            raise ValidationFailed("user_data goes with type json; with type file_url send file_url.")
        if attrs.pop("conditions", None) is not None:
            raise ValidationFailed("conditions are changed with updateUserGroup (PUT), not with a partial update.")
        return attrs


def checked(serializer_class, body: dict) -> dict:
    """A body the admin built, checked as the API checks it (core.api.views.validated)."""
    serializer = serializer_class(data=body)
    if not serializer.is_valid():  # our fields refuse with ValidationFailed; this is DRF's own refusal
        name, messages = next(iter(serializer.errors.items()))
        raise ValidationFailed(f"{name}: {messages[0]}")
    return dict(serializer.validated_data)
