"""Request shapes of the group operations: JSON types checked, values normalised; the rules (which
fields go with which type, what must exist) live in groups/services.py.

Bodies: CreateUserGroup (createUserGroup), UpdateUserGroupSchema (updateUserGroup, PUT) and
PartialUserGroupUpdateSchema (updateUserGroupPartially, PATCH) of the SDK 3.4.2, plus seed 002's
``blacklisted_users`` / ``whitelisted_users`` and ``tags``. Unknown keys are ignored, as the SDK allows.
"""

from __future__ import annotations

import json

from django.conf import settings

from core.api.errors import ValidationFailed
from core.ids import is_object_id
from groups import selectors

MAX_TAGS = 50
PATCH_SOURCES = {"file_url": "file_url", "file": "file_url", "csv": "file_url", "url": "file_url", "json": "json"}
USER_DATA_KEYS = ("user_id", "email", "phone_number")


def _body(body) -> dict:
    if not isinstance(body, dict):
        raise ValidationFailed("The request body must be a JSON object.")
    return body


def _text(body: dict, name: str, *, max_length: int, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise ValidationFailed(f"{name} is required.", meta={"errors": {name: ["This field is required."]}})
        return None
    if not isinstance(value, str):
        raise ValidationFailed(f"{name} must be a string.", meta={"errors": {name: ["Must be a string."]}})
    value = value.strip()
    if required and not value:
        raise ValidationFailed(f"{name} must not be blank.", meta={"errors": {name: ["Must not be blank."]}})
    if len(value) > max_length:
        raise ValidationFailed(f"{name} must be at most {max_length} characters.")
    if "\x00" in value:
        raise ValidationFailed(f"{name} must not contain NUL characters.")
    return value


def _file_url(body: dict) -> str | None:
    value = body.get("file_url")
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationFailed("file_url must be a string (an http or https URL of a CSV file).")
    value = value.strip()
    if len(value) > 2000:
        raise ValidationFailed("file_url must be at most 2000 characters.")
    return value or None


def condition_value_text(value, where: str) -> str:
    """A condition's ``value`` as the text the SDK answers (Joi.string()): strings as they are, numbers and
    booleans as JSON ("10", "true"), lists as JSON ('["a","b"]')."""
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, dict):
        raise ValidationFailed(f"{where}.value must be a string, a number, a boolean or a list.",
                               code="invalid_condition")
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _conditions(body: dict) -> list[dict] | None:
    raw = body.get("conditions")
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise ValidationFailed("conditions must be a list of {user_attribute_definition_id, type, value}.",
                               code="invalid_condition")
    conditions = []
    for i, item in enumerate(raw):
        where = f"conditions[{i}]"
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
        conditions.append({"user_attribute_definition_id": definition_id.strip(), "type": operator.strip().lower(),
                           "value": condition_value_text(item["value"], where)})
    return conditions


def _user_ids(body: dict, name: str) -> list[str] | None:
    raw = body.get(name)
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(u, str) for u in raw):
        raise ValidationFailed(f"{name} must be a list of user ids.")
    if len(raw) > settings.GROUP_MAX_LISTED_USERS:
        raise ValidationFailed(f"{name}: at most {settings.GROUP_MAX_LISTED_USERS} user ids.")
    ids = list(dict.fromkeys(u.strip().lower() for u in raw))
    bad = [u for u in ids if not is_object_id(u)]
    if bad:
        raise ValidationFailed(f"{name}: {', '.join(repr(b[:40]) for b in bad[:5])} "
                               f"{'is not a user id' if len(bad) == 1 else 'are not user ids'} (24 hex characters).")
    return ids


def _tags(body: dict) -> list[str] | None:
    raw = body.get("tags")
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(t, str) and 0 < len(t.strip()) <= 100 for t in raw) \
            or len(raw) > MAX_TAGS:
        raise ValidationFailed(f"tags must be a list of at most {MAX_TAGS} non-blank strings of up to 100 characters.")
    return list(dict.fromkeys(t.strip() for t in raw))


def user_data(raw) -> list[dict]:
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


def _common(body: dict) -> dict:
    data = {
        "name": _text(body, "name", max_length=200),
        "description": _text(body, "description", max_length=2000),
        "file_url": _file_url(body),
        "whitelisted_users": _user_ids(body, "whitelisted_users"),
        "blacklisted_users": _user_ids(body, "blacklisted_users"),
        "tags": _tags(body),
        "is_active": _flag(body, "is_active"),
    }
    return data


def _flag(body: dict, name: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise ValidationFailed(f"{name} must be true or false.")
    return value


def parse_create(body) -> dict:
    """createUserGroup: name and description required; type bulk | conditional (or inferred)."""
    body = _body(body)
    data = _common(body)
    data["name"] = _text(body, "name", max_length=200, required=True)
    data["description"] = _text(body, "description", max_length=2000, required=True)
    data["conditions"] = _conditions(body)
    raw_type = body.get("type")
    data["type"] = selectors.normalize_type(raw_type) if raw_type not in (None, "") else None
    data["user_data"] = user_data(body["user_data"]) if body.get("user_data") is not None else None
    return {k: v for k, v in data.items() if v is not None}


def parse_update(body) -> dict:
    """updateUserGroup (PUT): the fields sent."""
    body = _body(body)
    data = _common(body)
    data["conditions"] = _conditions(body)
    raw_type = body.get("type")
    data["type"] = selectors.normalize_type(raw_type) if raw_type not in (None, "") else None
    for name in ("name", "description"):
        if data[name] is not None and not data[name]:
            raise ValidationFailed(f"{name} must not be blank.")
    return {k: v for k, v in data.items() if v is not None}


def parse_patch(body) -> dict:
    """updateUserGroupPartially (PATCH): ``type`` says where the changes come from: file_url (default) or
    json (``user_data``)."""
    body = _body(body)
    data = _common(body)
    for name in ("name", "description"):
        if data[name] is not None and not data[name]:
            raise ValidationFailed(f"{name} must not be blank.")
    raw_type = body.get("type")
    source = None
    if raw_type not in (None, ""):
        if not isinstance(raw_type, str) or raw_type.strip().lower() not in PATCH_SOURCES:
            raise ValidationFailed("type must be file_url (changes in a CSV file at file_url) or json (changes in "
                                   "user_data).")
        source = PATCH_SOURCES[raw_type.strip().lower()]
    has_user_data = body.get("user_data") not in (None, [])
    if source is None:
        source = "json" if has_user_data else "file_url"
    if source == "json":
        if data["file_url"] is not None:
            raise ValidationFailed("file_url goes with type file_url; with type json send user_data.")
        data["user_data"] = user_data(body.get("user_data"))
    elif has_user_data:
        raise ValidationFailed("user_data goes with type json; with type file_url send file_url.")
    if body.get("conditions") is not None:
        raise ValidationFailed("conditions are changed with updateUserGroup (PUT), not with a partial update.")
    return {k: v for k, v in data.items() if v is not None}
