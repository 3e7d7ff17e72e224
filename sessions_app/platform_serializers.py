"""updatePlatformConfig's body (and the admin form's JSON): a partial ``PlatformSchema``.

Every key is optional; unknown keys are refused; values are taken as JSON gives them (no "true" for
true, no "30" for 30). A bad body is one error, the first bad field in the order it was sent, named
by its path (``session_config.duration``, ``delete_account_reasons[0].reason_text``). The rules across
fields need the stored document: :func:`sessions_app.platform_document.check_whole`.
"""

import json
import re
from collections.abc import Mapping

from django.core.validators import RegexValidator
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.settings import api_settings

from core.api.fields import WholeNumber
from core.ids import new_object_id
from sessions_app.platform_document import APPLE, READ_ONLY_KEYS, SESSION_MAX, SOCIAL_PROVIDERS

MAX_TEXT = 1000
MAX_URL = 2048
MAX_REASONS = 50
MAX_META_BYTES = 10_000
COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
COLOUR_MESSAGE = "must be a colour such as #fff or #f5f5f5."
UNKNOWN_KEY = "is not a field of the platform config."
NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY


# --------------------------------------------------------------------------- strict JSON fields

class Boolean(serializers.BooleanField):
    default_error_messages = {"invalid": "must be true or false.", "null": "must be true or false."}

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class Text(serializers.CharField):
    """A JSON string as sent (not trimmed, may be empty); ``null_as_empty``: null is ""."""

    default_error_messages = {"invalid": "must be a string.", "null": "must be a string.",
                              "max_length": "must be at most {max_length} characters."}

    def __init__(self, max_length=MAX_TEXT, *, null_as_empty=False, **kwargs):
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("allow_null", null_as_empty)  # for the OpenAPI document: validate_empty_values decides
        super().__init__(max_length=max_length, trim_whitespace=False, required=False, **kwargs)
        self.null_as_empty = null_as_empty

    def validate_empty_values(self, data):
        if data is None and self.null_as_empty:
            return True, ""
        return super().validate_empty_values(data)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return data


class Colour(Text):
    default_error_messages = {"invalid": COLOUR_MESSAGE, "null": COLOUR_MESSAGE, "blank": COLOUR_MESSAGE}

    def __init__(self, **kwargs):
        super().__init__(max_length=None, allow_blank=False, **kwargs)
        self.validators.append(RegexValidator(COLOUR, COLOUR_MESSAGE))


class Choice(serializers.ChoiceField):
    def __init__(self, options, **kwargs):
        one_of = f"must be one of {', '.join(repr(o) for o in options)}."
        super().__init__(options, required=False, error_messages={"invalid_choice": one_of, "null": one_of},
                         **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class MetaObject(serializers.DictField):
    """Free-form, but ``fynd_default`` is a boolean and the whole is at most MAX_META_BYTES of JSON."""

    default_error_messages = {"not_a_dict": "must be an object.", "null": "must be an object.",
                              "too_big": f"must be at most {MAX_META_BYTES} bytes of JSON."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if "fynd_default" in value and not isinstance(value["fynd_default"], bool):
            raise ValidationError({"fynd_default": ["must be true or false."]})
        if len(json.dumps(value)) > MAX_META_BYTES:
            self.fail("too_big")
        return value


# --------------------------------------------------------------------------- objects

class Section(serializers.Serializer):
    """An object of the document: partial, and strict about its keys."""

    default_error_messages = {"invalid": "must be an object.", "null": "must be an object."}
    aliases: dict[str, str] = {}
    ignored_keys: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            return super().to_internal_value(data)  # "must be an object."
        doubled = [alias for alias, name in self.aliases.items() if alias in data and name in data]
        if doubled:  # one would silently replace the other, unchecked
            raise ValidationError({doubled[0]: [f"names the same field as {self.aliases[doubled[0]]}: send one."]})
        data = {self.aliases.get(key, key): value for key, value in data.items() if key not in self.ignored_keys}
        unknown = {key: [UNKNOWN_KEY] for key in data if key not in self.fields}
        try:
            value = super().to_internal_value(data)
        except ValidationError as exc:
            raise ValidationError({**exc.detail, **unknown})
        if unknown:
            raise ValidationError(unknown)
        return value


class LevelSection(Section):
    is_required = Boolean()
    level = Choice(("hard", "soft"))


class PasswordRequiredSection(Section):
    is_required = Boolean()


class RequiredFieldsSection(Section):
    email = LevelSection()
    mobile = LevelSection()
    password = PasswordRequiredSection()


class LookAndFeelSection(Section):
    card_position = Choice(("left", "center", "right"))
    background_color = Colour()


class LoginSection(Section):
    password = Boolean()
    otp = Boolean()
    via = Choice(("", "email", "mobile", "email_or_mobile"))


class AccountLockoutSection(Section):
    enable = Boolean()
    attempts = WholeNumber(1, 100)
    duration = WholeNumber(1, 60 * 24 * 30)


class PasswordConfigsSection(Section):
    length = WholeNumber(6, 128)
    require_special_character = Boolean()
    require_number = Boolean()
    require_capital_character = Boolean()


class PasswordHistorySection(Section):
    required = Boolean()
    count = WholeNumber(1, 50)


class PasswordExpirySection(Section):
    required = Boolean()
    duration = WholeNumber(1, 3650)


class PasswordSettingsSection(Section):
    configs = PasswordConfigsSection()
    history = PasswordHistorySection()
    expiry = PasswordExpirySection()


class SocialSection(Section):
    account_kit = Boolean()
    facebook = Boolean()
    google = Boolean()
    apple = Boolean()


class FlashCardSection(Section):
    text = Text()
    text_color = Colour()
    background_color = Colour()


class SocialTokenSection(Section):
    app_id = Text(500)
    app_secret = Text(500)  # write-only: the mask keeps the stored one (platform_document.keep_secrets)


class AppleTokenSection(Section):
    app_id = Text(500)  # the client id(s): the app's bundle id and / or the Services ID (docs/accounts.md)


class SocialTokensSection(Section):
    aliases = {"accountkit": "account_kit"}  # seed 002 spells it "accountkit", the SDK "account_kit"

    def get_fields(self):
        return {**{provider: SocialTokenSection() for provider in SOCIAL_PROVIDERS}, APPLE: AppleTokenSection()}


class ReasonSection(Section):
    reason_text = Text(500)
    reason_id = Text(100)
    show_text_area = Boolean()

    def validate(self, attrs):
        if not attrs.get("reason_text"):
            raise ValidationError({"reason_text": ["is required."]})
        return {"reason_text": attrs["reason_text"], "reason_id": attrs.get("reason_id") or new_object_id(),
                "show_text_area": attrs.get("show_text_area", False)}


class Reasons(serializers.ListField):
    default_error_messages = {"not_a_list": "must be a list.", "null": "must be a list.",
                              "max_length": f"must hold at most {MAX_REASONS} reasons.",
                              "duplicate_ids": "reason_id values must be unique."}

    def __init__(self, **kwargs):
        super().__init__(child=ReasonSection(), required=False, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, list) and len(data) > MAX_REASONS:
            self.fail("max_length")  # before the items, as the limit is there to bound their checking
        reasons = super().to_internal_value(data)
        ids = [reason["reason_id"] for reason in reasons]
        if len(ids) != len(set(ids)):
            self.fail("duplicate_ids")
        return reasons


class DeleteAccountConsentSection(Section):
    consent_text = Text(5000)


class SessionConfigSection(Section):
    duration = WholeNumber(1, SESSION_MAX["Minutes"])  # per unit: platform_document.check_whole
    type = Choice(tuple(SESSION_MAX))
    is_rolling = Boolean()


class PlatformConfigSerializer(Section):
    """A partial PlatformSchema; a document read back (with ``_id``, ``__v``, …) may be posted whole."""

    ignored_keys = READ_ONLY_KEYS

    display = Text()
    name = Text()
    subtext = Text()
    active = Boolean()
    register = Boolean()
    forgot_password = Boolean()
    skip_captcha = Boolean()
    skip_login = Boolean()
    mobile_image = Text(MAX_URL, null_as_empty=True)
    desktop_image = Text(MAX_URL, null_as_empty=True)
    look_and_feel = LookAndFeelSection()
    login = LoginSection()
    account_lockout = AccountLockoutSection()
    password_settings = PasswordSettingsSection()
    meta = MetaObject(required=False)
    social = SocialSection()
    required_fields = RequiredFieldsSection()
    register_required_fields = RequiredFieldsSection()
    flash_card = FlashCardSection()
    social_tokens = SocialTokensSection()
    delete_account_day = WholeNumber(1, 365)
    delete_account_reasons = Reasons()
    delete_account_consent = DeleteAccountConsentSection()
    session_config = SessionConfigSection()

    def run_validation(self, data=serializers.empty):
        try:
            return super().run_validation(data)
        except ValidationError as exc:
            path, message = next(_errors_in_sent_order(exc.detail, data), ("body", "Invalid input."))
            raise ValidationError({path: [message]})


def _errors_in_sent_order(detail, data, path=""):
    """(path, message) of each error of a nested DRF error ``detail``, in the order of the ``data`` sent."""
    if isinstance(detail, Mapping):
        sent = list(data) if isinstance(data, Mapping) else []

        def position(key):
            if key == NON_FIELD:
                return -1  # about the object itself
            return sent.index(key) if key in sent else (key if isinstance(key, int) else len(sent))

        for key in sorted(detail, key=position):
            if key == NON_FIELD:
                sub_path = path
            elif isinstance(key, int):
                sub_path = f"{path}[{key}]"
            else:
                sub_path = f"{path}.{key}" if path else str(key)
            sub_data = data.get(key) if isinstance(data, Mapping) else (
                data[key] if isinstance(key, int) and isinstance(data, list) and key < len(data) else None)
            yield from _errors_in_sent_order(detail[key], sub_data, sub_path)
    elif isinstance(detail, list) and detail and all(isinstance(item, str) for item in detail):
        yield path or "body", str(detail[0])
    elif isinstance(detail, list):
        for index, item in enumerate(detail):
            if item:
                yield from _errors_in_sent_order(item, data[index] if isinstance(data, list) else None,
                                                 f"{path}[{index}]")
    else:
        yield path or "body", str(detail)
