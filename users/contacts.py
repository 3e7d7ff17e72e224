"""The one place that parses and normalises the emails and phone numbers customers are known by: the
API, the admin, search, the customer import and group files all come here.

Phones are phonenumbers' answers (E.164: ``+<country code><national significant number>``), also
through :func:`_simple_phone`, a fast path for the commonest spellings that a million-row file needs.
"""

import re
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

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


# ----------------------------------------------------------------------------- emails

# The common shape of an address, checked here in a microsecond; email_validator (thorough, Unicode,
# ~20 times slower: it showed in million-row imports) judges everything else. Stricter than it, never
# laxer: no "--" in the domain (R-LDH labels, Punycode), no special-use domain, the RFC lengths.
_PLAIN_EMAIL = re.compile(r"[a-z0-9_%+\-]+(?:\.[a-z0-9_%+\-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}",
                          re.ASCII)
_SPECIAL_USE_DOMAINS = frozenset(SPECIAL_USE_DOMAIN_NAMES)


def _plain_email(lowered: str) -> bool:
    if len(lowered) > 254 or not _PLAIN_EMAIL.fullmatch(lowered):
        return False
    local, domain = lowered.rsplit("@", 1)
    if len(local) > 64 or "--" in domain:
        return False
    while domain not in _SPECIAL_USE_DOMAINS:  # neither the domain nor a parent of it is special-use
        _, dot, domain = domain.partition(".")
        if not dot:
            return True
    return False


def normalize_email(raw: str, field: str = "email") -> str:
    """Validated, with the domain lower-cased; the whole address is compared case-insensitively."""
    text = raw.strip()
    lowered = text.lower()
    if text.isascii() and _plain_email(lowered):  # ASCII first: "\u212a".lower() is "k"
        return lowered
    try:
        result = validate_email(text, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise ValidationFailed(f"{field}: {raw[:80]!r} is not a valid email address ({exc}).")
    return result.normalized.lower()


def email_or_none(raw: str) -> str | None:
    """The address as :func:`normalize_email` stores it, or None when it is not one."""
    try:
        return normalize_email(raw)
    except ValidationFailed:
        return None


# ----------------------------------------------------------------------------- phones

def _calling_code(country_code, field: str) -> int:
    if country_code in (None, ""):
        return settings.DEFAULT_PHONE_COUNTRY_CODE
    if type(country_code) is int:
        return country_code
    try:
        return int(str(country_code).strip().lstrip("+"))
    except ValueError:
        raise ValidationFailed(f"{field}: country_code {country_code!r} is not a number.")


def parse_phone(raw: str, country_code=None, field: str = "phone_number") -> Phone:
    """Parse a phone in any common spelling; a number without +CC takes ``country_code``
    (or the DEFAULT_PHONE_COUNTRY_CODE setting, 91 unless configured)."""
    text = str(raw).strip()
    code = _calling_code(country_code, field)
    region = phonenumbers.region_code_for_country_code(code)
    if region == "ZZ":
        raise ValidationFailed(f"{field}: {code} is not a known country calling code.")
    simple = _simple_phone(text, code)
    if simple is not None:
        return Phone(national=simple[1], country_code=simple[0])
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValidationFailed(f"{field}: {text[:40]!r} is not a phone number.")
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed(f"{field}: {text[:40]!r} is not a valid phone number for country code "
                               f"{number.country_code}.")
    return Phone(national=str(phonenumbers.national_significant_number(number)), country_code=number.country_code)


def e164_or_none(raw: str, country_code: int) -> str | None:
    """The number as :func:`parse_phone` stores it (``+<code><digits>``), or None when it is not a valid
    one; the group files' lookup key, a million times per file."""
    text = raw.strip()
    simple = _simple_phone(text, country_code)
    if simple is not None:
        return f"+{simple[0]}{simple[1]}"
    try:
        return parse_phone(text, country_code).e164
    except ValidationFailed:
        return None


def looks_like_phone(text: str) -> bool:
    """Search terms: digits with + - ( ) or spaces only."""
    digits = "".join(ch for ch in text if ch.isdigit())
    rest = "".join(ch for ch in text if not ch.isdigit() and ch not in "+-() ")
    return bool(digits) and not rest


_PHONE_SPELLING = re.compile(r"\+?[0-9][0-9 ()\-./]*")
_NOT_DIGIT = re.compile(r"\D")


def written_as_phone(text: str) -> bool:
    """A value of a phone column: + or a digit first, then digits and separators, 4 to 17 digits."""
    return _PHONE_SPELLING.fullmatch(text) is not None and 4 <= len(_NOT_DIGIT.sub("", text)) <= 17


def split_calling_code(digits: str) -> tuple[int, str] | None:
    """(country calling code, the digits after it) when ``digits`` start with a known code. Calling codes
    are prefix-free, so at most one of the 1-3 digit heads is one."""
    for size in (1, 2, 3):
        head = digits[:size]
        if len(head) < size or not head.isdecimal():  # isdigit() would also let "²" through
            return None
        if phonenumbers.region_code_for_country_code(int(head)) != "ZZ":
            return int(head), digits[size:]
    return None


# ----------------------------------------------------------------------------- the fast path
#
# phonenumbers.parse + is_valid_number cost ~15 µs; a group file holds a million numbers. For the
# spellings below, parse() provably takes one short path (phonenumberutil.parse, 9.0.x): no RFC 3966
# context, no extension (those need ; , # or letters), nothing stripped at either end, a viable number
# (3 digits or more). With "+", the
# country code is the first 1-3 digits that are one; without it, the default region's national
# number is the digits as they are, unless they start with its international prefix or its country
# code, or its national prefix matches (each of those cases goes to phonenumbers). Validity is then
# is_valid_number's own test, on the metadata's own patterns. Anything else (or an invalid number,
# for its precise error) goes to phonenumbers.

_SIMPLE_SPELLING = re.compile(r"(\+?)([0-9]+(?:[ \-][0-9]+)*)", re.ASCII)
_MIN_NSN, _MAX_NSN = 2, 17  # phonenumberutil's _MIN_LENGTH_FOR_NSN, _MAX_LENGTH_FOR_NSN


class _Region:
    """is_valid_number_for_region of one region, one compiled pattern per number length."""

    def __init__(self, metadata):
        self.metadata = metadata
        self.leading_digits = re.compile(metadata.leading_digits) if metadata.leading_digits is not None else None
        self._by_length: dict[int, re.Pattern | None] = {}

    def _pattern(self, length: int) -> re.Pattern | None:
        """Numbers of this length that _number_type_helper does not call UNKNOWN: the general description,
        and then any type's (mobile only where its pattern differs from the fixed line's)."""
        m = self.metadata
        general = m.general_desc
        if (general is None or not general.national_number_pattern
                or (general.possible_length and length not in general.possible_length)):
            return None
        types = [m.premium_rate, m.toll_free, m.shared_cost, m.voip, m.personal_number, m.pager, m.uan,
                 m.voicemail, m.fixed_line] + ([] if m.same_mobile_and_fixed_line_pattern else [m.mobile])
        alternatives = [d.national_number_pattern for d in types
                        if d is not None and d.national_number_pattern
                        and (not d.possible_length or length in d.possible_length)]
        if not alternatives:
            return None
        either = "|".join(f"(?:{pattern})" for pattern in alternatives)
        return re.compile(f"(?=(?:{general.national_number_pattern})\\Z)(?:{either})")

    def valid(self, nsn: str) -> bool:
        length = len(nsn)
        try:
            pattern = self._by_length[length]
        except KeyError:
            pattern = self._by_length[length] = self._pattern(length)
        return pattern is not None and pattern.fullmatch(nsn) is not None


class _Plan:
    """One country calling code: what parse() strips for it, and is_valid_number's regions."""

    def __init__(self, code: int):
        self.code = code
        self.code_text = str(code)
        main = PhoneMetadata.metadata_for_region_or_calling_code(code, phonenumbers.region_code_for_country_code(code))
        self.international_prefix = re.compile(main.international_prefix or "NonMatch")
        self.national_prefix = (re.compile(main.national_prefix_for_parsing)
                                if main.national_prefix_for_parsing else None)
        regions = [PhoneMetadata.metadata_for_region(r.upper(), None) for r in COUNTRY_CODE_TO_REGION_CODE[code]]
        self.regions = [_Region(m) for m in regions if m is not None]
        self.valid = self.regions[0].valid if len(self.regions) == 1 else self._claimed_and_valid

    def _claimed_and_valid(self, nsn: str) -> bool:
        """is_valid_number of a code shared by several regions: the region that claims the number
        (region_code_for_number), then its test."""
        for region in self.regions:
            if region.leading_digits is not None:
                if region.leading_digits.match(nsn):
                    return region.valid(nsn)
            elif region.valid(nsn):
                return True
        return False


def _plan_of(code: int) -> "_Plan | None":
    """None for codes without a geographic region (800, 870, …: phonenumbers itself answers those)."""
    region = phonenumbers.region_code_for_country_code(code)
    return _Plan(code) if region not in ("ZZ", phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY) else None


_PLANS: dict[int, _Plan | None] = {}
_CODES = {str(code): code for code in COUNTRY_CODE_TO_REGION_CODE}  # "91" → 91; none starts with 0


def _simple_phone(text: str, default_code: int) -> tuple[int, str] | None:
    """(country code, national significant number) of a valid number written simply, exactly as
    phonenumbers would parse it; None when phonenumbers must decide (other spellings, invalid numbers)."""
    if len(text) > 40 or not text.isascii():
        return None
    if text.isdigit():  # the commonest spellings first, without the regular expression
        plus, digits = False, text
    elif text[:1] == "+" and text[1:].isdigit():
        plus, digits = True, text[1:]
    else:
        spelled = _SIMPLE_SPELLING.fullmatch(text)
        if spelled is None:
            return None
        plus, digits = bool(spelled[1]), spelled[2].replace(" ", "").replace("-", "")
    if len(digits) < 3:  # parse() calls two digits with a separator no number; "+12" is too short after the +
        return None
    if plus:
        code = _CODES.get(digits[:1]) or _CODES.get(digits[:2]) or _CODES.get(digits[:3])
        if code is None:
            return None
        nsn = digits[len(str(code)):]
    else:
        code, nsn = default_code, digits
    try:
        plan = _PLANS[code]
    except KeyError:
        plan = _PLANS[code] = _plan_of(code)
    if plan is None or not _MIN_NSN <= len(nsn) <= _MAX_NSN:
        return None
    if not plus and (plan.international_prefix.match(nsn) or nsn.startswith(plan.code_text)):
        return None
    if plan.national_prefix is not None and plan.national_prefix.match(nsn):
        return None
    return (code, nsn) if plan.valid(nsn) else None
