"""The kinds of message, the channels, and what each kind needs in its context (checked by ``send``)."""

import json
import re

CHANNELS = ("email", "sms")
OTP_PURPOSES = ("login", "register", "verify", "forgot", "update")
# kind -> the context keys it cannot do without (templates may use more, e.g. first_name)
REQUIRED_CONTEXT = {
    "otp": ("code", "minutes", "purpose"),
    "verify_link": ("link",),
    "reset_link": ("link",),
    "password_changed": (),
    "account_deleted": (),
}
KINDS = tuple(REQUIRED_CONTEXT)
E164 = re.compile(r"\+[1-9]\d{6,14}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


def check(kind: str, channel: str, to: str, context: dict) -> None:
    """ValueError for a call the caller got wrong: these are programming errors, not customers' input."""
    if kind not in REQUIRED_CONTEXT:
        raise ValueError(f"unknown message kind {kind!r}; one of {', '.join(KINDS)}")
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; one of {', '.join(CHANNELS)}")
    if channel == "sms" and not (isinstance(to, str) and E164.fullmatch(to)):
        raise ValueError("an SMS goes to an E.164 number such as +919876543210")
    if channel == "email" and not (isinstance(to, str) and EMAIL.fullmatch(to)):
        raise ValueError("an email goes to one address")
    missing = [key for key in REQUIRED_CONTEXT[kind] if context.get(key) in (None, "")]
    if missing:
        raise ValueError(f"a {kind} message needs {', '.join(missing)} in its context")
    if kind == "otp" and context["purpose"] not in OTP_PURPOSES:
        raise ValueError(f"otp purpose must be one of {', '.join(OTP_PURPOSES)}")
    try:
        json.dumps(context)
    except (TypeError, ValueError):
        raise ValueError("the context must hold JSON values only (it travels through the task queue)") from None
