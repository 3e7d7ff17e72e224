"""Platform config of an application: defaults, validation, merge (service and selector).

The stored document is the SDK's ``PlatformSchema`` (seed 002, "Website Authentication") without its
bookkeeping keys (``_id``, ``created_at``, ``updated_at``, ``__v``), which come from the row.

- :func:`get_platform_config` returns the row, creating it with :func:`default_document` on first read.
- :func:`update_platform_config` validates a partial document, merges it into the stored one (nested
  objects key by key, lists replaced whole), bumps ``__v`` and saves; a bad field is a 400 naming it
  and nothing is stored.
- :func:`present` is the API / admin view of a row: every key of ``PlatformSchema``, strings never
  null, social app secrets masked.

See docs/platform-config.md for the defaults and the rules.
"""

import copy
import json
import re

from django.conf import settings
from django.db import connection, transaction

from core.api.errors import ValidationFailed
from core.ids import new_object_id
from core.timefmt import iso

SECRET_MASK = "********"
SESSION_TYPES = ("Days", "Hours", "Minutes")
SESSION_MAX = {"Days": 365, "Hours": 365 * 24, "Minutes": 365 * 24 * 60}
LEVELS = ("hard", "soft")
CARD_POSITIONS = ("left", "center", "right")
LOGIN_VIA = ("", "email", "mobile", "email_or_mobile")
COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
MAX_TEXT = 1000
MAX_URL = 2048
MAX_REASONS = 50
MAX_META_BYTES = 10_000
SOCIAL_PROVIDERS = ("facebook", "account_kit", "google")
READ_ONLY_KEYS = ("_id", "created_at", "updated_at", "__v")


DEFAULT_SESSION_CONFIG = {"duration": 30, "type": "Days", "is_rolling": False}


def default_document() -> dict:
    """The documented defaults (docs/platform-config.md)."""
    def required(is_required):
        return {"is_required": is_required, "level": "hard"}

    return {
        "display": "",
        "name": "",
        "subtext": "",
        "active": True,
        "register": True,
        "forgot_password": True,
        "skip_captcha": False,
        "skip_login": False,
        "mobile_image": "",
        "desktop_image": "",
        "look_and_feel": {"card_position": "center", "background_color": "#F5F5F5"},
        "login": {"password": True, "otp": True, "via": ""},
        "account_lockout": {"enable": False, "attempts": 5, "duration": 30},
        "password_settings": {
            "configs": {"length": 8, "require_special_character": False, "require_number": False,
                        "require_capital_character": False},
            "history": {"required": False, "count": 3},
            "expiry": {"required": False, "duration": 90},
        },
        "meta": {"fynd_default": True},
        "social": {"account_kit": False, "facebook": False, "google": False, "apple": False},
        "required_fields": {"email": required(False), "mobile": required(True), "password": {"is_required": True}},
        "register_required_fields": {"email": required(False), "mobile": required(True),
                                     "password": {"is_required": True}},
        "flash_card": {"text": "", "text_color": "#FFFFFF", "background_color": "#EF5350"},
        "social_tokens": {provider: {"app_id": "", "app_secret": ""} for provider in SOCIAL_PROVIDERS},
        "delete_account_day": settings.DEFAULT_DELETE_ACCOUNT_DAYS,
        "delete_account_reasons": [],
        "delete_account_consent": {"consent_text": ""},
        "session_config": dict(DEFAULT_SESSION_CONFIG),
    }


# --------------------------------------------------------------------------- field rules
# A rule is a function (value, path) -> cleaned value, raising _Invalid; objects are dicts of rules.

class _Invalid(Exception):
    def __init__(self, path, message):
        super().__init__(message)
        self.path = path
        self.message = message


def boolean(value, path):
    if not isinstance(value, bool):
        raise _Invalid(path, "must be true or false.")
    return value


def text(max_length=MAX_TEXT, nullable=False):
    def rule(value, path):
        if value is None and nullable:
            return ""
        if not isinstance(value, str):
            raise _Invalid(path, "must be a string.")
        if len(value) > max_length:
            raise _Invalid(path, f"must be at most {max_length} characters.")
        return value
    return rule


def integer(minimum, maximum):
    def rule(value, path):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Invalid(path, "must be a number.")
        if isinstance(value, float):
            if not value.is_integer():
                raise _Invalid(path, "must be a whole number.")
            value = int(value)
        if not minimum <= value <= maximum:
            raise _Invalid(path, f"must be between {minimum} and {maximum}.")
        return value
    return rule


def choice(options):
    def rule(value, path):
        if not isinstance(value, str) or value not in options:
            shown = ", ".join(repr(o) for o in options)
            raise _Invalid(path, f"must be one of {shown}.")
        return value
    return rule


def colour(value, path):
    if not isinstance(value, str) or not COLOUR.match(value):
        raise _Invalid(path, "must be a colour such as #fff or #f5f5f5.")
    return value


def meta(value, path):
    import json

    if not isinstance(value, dict):
        raise _Invalid(path, "must be an object.")
    if "fynd_default" in value:
        boolean(value["fynd_default"], f"{path}.fynd_default")
    if len(json.dumps(value)) > MAX_META_BYTES:
        raise _Invalid(path, f"must be at most {MAX_META_BYTES} bytes of JSON.")
    return value


def reasons(value, path):
    if not isinstance(value, list):
        raise _Invalid(path, "must be a list.")
    if len(value) > MAX_REASONS:
        raise _Invalid(path, f"must hold at most {MAX_REASONS} reasons.")
    cleaned = []
    for index, item in enumerate(value):
        item_path = f"{path}[{index}]"
        reason = clean_object(REASON_RULES, item, item_path)
        if not reason.get("reason_text"):
            raise _Invalid(f"{item_path}.reason_text", "is required.")
        cleaned.append({"reason_text": reason["reason_text"],
                        "reason_id": reason.get("reason_id") or new_object_id(),
                        "show_text_area": reason.get("show_text_area", False)})
    ids = [r["reason_id"] for r in cleaned]
    if len(ids) != len(set(ids)):
        raise _Invalid(path, "reason_id values must be unique.")
    return cleaned


def _level_rules():
    return {"is_required": boolean, "level": choice(LEVELS)}


SOCIAL_TOKEN_RULES = {"app_id": text(500), "app_secret": text(500)}
REASON_RULES = {"reason_text": text(500), "reason_id": text(100), "show_text_area": boolean}

RULES = {
    "display": text(),
    "name": text(),
    "subtext": text(),
    "active": boolean,
    "register": boolean,
    "forgot_password": boolean,
    "skip_captcha": boolean,
    "skip_login": boolean,
    "mobile_image": text(MAX_URL, nullable=True),
    "desktop_image": text(MAX_URL, nullable=True),
    "look_and_feel": {"card_position": choice(CARD_POSITIONS), "background_color": colour},
    "login": {"password": boolean, "otp": boolean, "via": choice(LOGIN_VIA)},
    "account_lockout": {"enable": boolean, "attempts": integer(1, 100), "duration": integer(1, 60 * 24 * 30)},
    "password_settings": {
        "configs": {"length": integer(6, 128), "require_special_character": boolean, "require_number": boolean,
                    "require_capital_character": boolean},
        "history": {"required": boolean, "count": integer(1, 50)},
        "expiry": {"required": boolean, "duration": integer(1, 3650)},
    },
    "meta": meta,
    "social": {"account_kit": boolean, "facebook": boolean, "google": boolean, "apple": boolean},
    "required_fields": {"email": _level_rules(), "mobile": _level_rules(), "password": {"is_required": boolean}},
    "register_required_fields": {"email": _level_rules(), "mobile": _level_rules(),
                                 "password": {"is_required": boolean}},
    "flash_card": {"text": text(), "text_color": colour, "background_color": colour},
    "social_tokens": {provider: SOCIAL_TOKEN_RULES for provider in SOCIAL_PROVIDERS},
    "delete_account_day": integer(1, 365),
    "delete_account_reasons": reasons,
    "delete_account_consent": {"consent_text": text(5000)},
    "session_config": {"duration": integer(1, SESSION_MAX["Minutes"]), "type": choice(SESSION_TYPES),
                       "is_rolling": boolean},
}

ALIASES = {"social_tokens": {"accountkit": "account_kit"}}  # seed 002 spells it "accountkit", the SDK "account_kit"


def clean_object(rules: dict, value, path: str, aliases: dict | None = None) -> dict:
    """Validate a (partial) object against ``rules``; unknown keys are errors."""
    if not isinstance(value, dict):
        raise _Invalid(path or "body", "must be an object.")
    cleaned = {}
    for key, sub in value.items():
        key = (aliases or {}).get(key, key)
        sub_path = f"{path}.{key}" if path else key
        rule = rules.get(key)
        if rule is None:
            if not path and key in READ_ONLY_KEYS:
                continue  # bookkeeping of a document read back: ignored
            raise _Invalid(sub_path, "is not a field of the platform config.")
        if isinstance(rule, dict):
            cleaned[key] = clean_object(rule, sub, sub_path, ALIASES.get(key) if not path else None)
        else:
            cleaned[key] = rule(sub, sub_path)
    return cleaned


def merge(stored: dict, changes: dict) -> dict:
    """Deep merge: objects key by key, anything else (lists too) replaced."""
    result = copy.deepcopy(stored)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict) and key != "meta":
            result[key] = merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _check_whole(document: dict) -> None:
    """Rules across fields, checked on the merged document."""
    login = document["login"]
    if not (login.get("password") or login.get("otp")):
        raise _Invalid("login", "at least one of password and otp must be true.")
    session = document["session_config"]
    if session["duration"] > SESSION_MAX[session["type"]]:
        raise _Invalid("session_config.duration",
                       f"must be at most {SESSION_MAX[session['type']]} {session['type'].lower()} (a year).")


def _keep_secrets(changes: dict, stored: dict) -> dict:
    """An app_secret sent as the mask (a document read back) keeps the stored secret."""
    tokens = changes.get("social_tokens")
    if isinstance(tokens, dict):
        for provider, values in tokens.items():
            if isinstance(values, dict) and values.get("app_secret") == SECRET_MASK:
                values["app_secret"] = stored.get("social_tokens", {}).get(provider, {}).get("app_secret", "")
    return changes


def validate_changes(data, stored: dict | None = None) -> tuple[dict, dict]:
    """(cleaned changes, merged document); ValidationFailed (400) naming the first bad field."""
    stored = full_document(stored or {})
    try:
        changes = _keep_secrets(clean_object(RULES, data, "", None), stored)
        merged = merge(stored, changes)
        _check_whole(merged)
    except _Invalid as exc:
        raise ValidationFailed(f"{exc.path}: {exc.message}", meta={"errors": {exc.path: [exc.message]}})
    return changes, merged


def full_document(document: dict) -> dict:
    """The stored document over the defaults (keys added to the schema later get their default)."""
    return merge(default_document(), document or {})


# --------------------------------------------------------------------------- selector and service

def get_platform_config(application):
    """The application's config, created with the defaults on first read."""
    from sessions_app.models import PlatformConfig

    config, _created = PlatformConfig.objects.get_or_create(
        application=application, defaults={"document": default_document()})
    return config


def stored_value(application, *path, default=None):
    """One value of the config without creating it: the stored value, else the default."""
    from sessions_app.models import PlatformConfig

    document = PlatformConfig.objects.filter(application=application).values_list("document", flat=True).first()
    value = full_document(document or {})
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return default
        value = value[key]
    return value


SESSION_UNIT_SECONDS = {"Days": 24 * 3600, "Hours": 3600, "Minutes": 60}


def session_settings(application) -> tuple[int, bool]:
    """(lifetime in seconds, is_rolling) of the application's session_config, without creating the row.

    Read on every createUserSession: only the session_config part, in plain SQL."""
    from sessions_app.models import PlatformConfig

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT document -> 'session_config' FROM {PlatformConfig._meta.db_table} "
                       "WHERE application_id = %s", [application.id])
        row = cursor.fetchone()
    stored = row[0] if row else None
    if isinstance(stored, str):  # a driver that hands jsonb over as text
        stored = json.loads(stored)
    session = {**DEFAULT_SESSION_CONFIG, **(stored if isinstance(stored, dict) else {})}
    return session["duration"] * SESSION_UNIT_SECONDS[session["type"]], bool(session["is_rolling"])


def update_platform_config(application, data, actor=None):
    """Validate ``data`` (a partial PlatformSchema), merge it into the stored config, bump ``__v``."""
    from sessions_app.models import PlatformConfig

    with transaction.atomic():
        get_platform_config(application)
        config = PlatformConfig.objects.select_for_update().get(application=application)
        _changes, merged = validate_changes(data, config.document)
        if merged != full_document(config.document):
            config.document = merged
            config.version += 1
            config.save(update_fields=["document", "version", "updated_at"])
    return config


def present(config) -> dict:
    """The PlatformSchema answer: every key, strings never null, secrets masked."""
    document = full_document(config.document)
    for values in document["social_tokens"].values():
        if values.get("app_secret"):
            values["app_secret"] = SECRET_MASK
    return {
        "_id": config.id,
        **document,
        "created_at": iso(config.created_at),
        "updated_at": iso(config.updated_at),
        "__v": config.version,
    }
