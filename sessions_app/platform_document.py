"""The platform config document: the SDK's ``PlatformSchema`` (seed 002, "Website Authentication").

Its defaults, the deep merge of a change into it, the rules across fields (checked on the merged
document) and the write-only social app secrets. No database here: see :mod:`sessions_app.platform_config`.
"""

import copy

from django.conf import settings

from core.api.errors import ValidationFailed

SECRET_MASK = "********"
SOCIAL_PROVIDERS = ("facebook", "account_kit", "google")
# Sign in with Apple: the SDK's PlatformSchema.social_tokens has no "apple", so its client id(s) are stored and
# shown to the storefront and the admin, accepted by updatePlatformConfig, but left out of the platform answer
# (platform_config.present). Only an app_id: verifying an Apple identity token needs no secret.
APPLE = "apple"
READ_ONLY_KEYS = ("_id", "created_at", "updated_at", "__v")  # bookkeeping, from the row
SESSION_MAX = {"Days": 365, "Hours": 365 * 24, "Minutes": 365 * 24 * 60}
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
        "social_tokens": {**{provider: {"app_id": "", "app_secret": ""} for provider in SOCIAL_PROVIDERS},
                          APPLE: {"app_id": ""}},
        "delete_account_day": settings.DEFAULT_DELETE_ACCOUNT_DAYS,
        "delete_account_reasons": [],
        "delete_account_consent": {"consent_text": ""},
        "session_config": dict(DEFAULT_SESSION_CONFIG),
    }


def merge(stored: dict, changes: dict) -> dict:
    """Deep merge: objects key by key, anything else (lists too, and ``meta``) replaced."""
    result = copy.deepcopy(stored)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict) and key != "meta":
            result[key] = merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def full_document(document: dict | None) -> dict:
    """The stored document over the defaults (keys added to the schema later get their default)."""
    return merge(default_document(), document or {})


def keep_secrets(changes: dict, stored: dict) -> dict:
    """An app_secret sent as the mask (a document read back) keeps the stored secret."""
    changes = copy.deepcopy(changes)
    for provider, values in changes.get("social_tokens", {}).items():
        if values.get("app_secret") == SECRET_MASK:
            values["app_secret"] = stored.get("social_tokens", {}).get(provider, {}).get("app_secret", "")
    return changes


def check_whole(document: dict) -> None:
    """Rules across fields, on the merged document: ValidationFailed (400) in the serializers' format."""
    login = document["login"]
    if not (login.get("password") or login.get("otp")):
        _refuse("login", "at least one of password and otp must be true.")
    session = document["session_config"]
    if session["duration"] > SESSION_MAX[session["type"]]:
        _refuse("session_config.duration",
                f"must be at most {SESSION_MAX[session['type']]} {session['type'].lower()} (a year).")


def _refuse(path: str, message: str):
    raise ValidationFailed(f"{path}: {message}", meta={"errors": {path: [message]}})


def masked(document: dict) -> dict:
    """The document as shown (API, admin): social app secrets replaced by the mask."""
    shown = copy.deepcopy(document)
    for values in shown["social_tokens"].values():
        if values.get("app_secret"):
            values["app_secret"] = SECRET_MASK
    return shown
