"""Parsing and normalising the emails and phone numbers customers are known by."""

import re
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from core.api.errors import ValidationFailed


@dataclass(frozen=True)
class Phone:
    national: str  # national significant number, digits only
    country_code: int

    @property
    def e164(self) -> str:
        return f"+{self.country_code}{self.national}"

    def __reduce__(self):  # pickled by the million between the import's processes: keep it cheap
        return Phone, (self.national, self.country_code)


# The common shape of an address, checked here in a microsecond; email_validator (thorough, Unicode,
# ~20 times slower: it showed in million-row imports) judges everything else. Stricter than it, never
# laxer: no "--" in the domain (R-LDH labels, Punycode), no special-use domain, the RFC lengths.
_PLAIN_EMAIL = re.compile(r"[a-z0-9_%+\-]+(?:\.[a-z0-9_%+\-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}",
                          re.ASCII)
_SPECIAL_USE_DOMAINS = tuple(SPECIAL_USE_DOMAIN_NAMES)


def _plain_email(lowered: str) -> bool:
    if len(lowered) > 254 or not _PLAIN_EMAIL.fullmatch(lowered):
        return False
    local, domain = lowered.rsplit("@", 1)
    return (len(local) <= 64 and "--" not in domain
            and not any(domain == name or domain.endswith("." + name) for name in _SPECIAL_USE_DOMAINS))


def normalize_email(raw: str, field: str = "email") -> str:
    """Validated, with the domain lower-cased; the whole address is compared case-insensitively."""
    text = raw.strip()
    if text.isascii() and _plain_email(text.lower()):  # ASCII first: "\u212a".lower() is "k"
        return text.lower()
    try:
        result = validate_email(raw.strip(), check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise ValidationFailed(f"{field}: {raw[:80]!r} is not a valid email address ({exc}).")
    return result.normalized.lower()


def parse_phone(raw: str, country_code=None, field: str = "phone_number") -> Phone:
    """Parse a phone in any common spelling; a number without +CC takes ``country_code``
    (or the DEFAULT_PHONE_COUNTRY_CODE setting, 91 unless configured)."""
    text = str(raw).strip()
    if country_code in (None, ""):
        code = settings.DEFAULT_PHONE_COUNTRY_CODE
    else:
        try:
            code = int(str(country_code).strip().lstrip("+"))
        except ValueError:
            raise ValidationFailed(f"{field}: country_code {country_code!r} is not a number.")
    region = phonenumbers.region_code_for_country_code(code)
    if region == "ZZ":
        raise ValidationFailed(f"{field}: {code} is not a known country calling code.")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValidationFailed(f"{field}: {text[:40]!r} is not a phone number.")
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed(f"{field}: {text[:40]!r} is not a valid phone number for country code "
                               f"{number.country_code}.")
    return Phone(national=str(phonenumbers.national_significant_number(number)), country_code=number.country_code)


def try_parse_phone(raw: str) -> Phone | None:
    try:
        return parse_phone(raw)
    except ValidationFailed:
        return None


def looks_like_phone(text: str) -> bool:
    digits = "".join(ch for ch in text if ch.isdigit())
    rest = "".join(ch for ch in text if not ch.isdigit() and ch not in "+-() ")
    return bool(digits) and not rest
