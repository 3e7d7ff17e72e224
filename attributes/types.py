"""The attribute types: parsing, validation, normalisation, conversion and index rows, per type.

Everything that decides what a value *is* lives here, so that the value API, the admin, the bulk
updates and the filter compiler agree. No database access, no logging, and no message ever contains
the value itself (it may be an encrypted attribute's).

Vocabulary:

- a *value* is what a customer has for a definition: one *element*, or a list of elements when the
  definition is multi value;
- an element is kept in a canonical JSON form: string -> str, number -> int or float (an integral
  float becomes an int), boolean -> bool, date -> "YYYY-MM-DD", datetime -> "YYYY-MM-DDTHH:MM:SS.mmmZ"
  (UTC), json -> any JSON value but null;
- a :class:`Spec` is what of a definition matters to its values (type, multi value, encrypted,
  validations), so a definition being edited can be checked before it is saved.
"""

import json
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache

from attributes import crypto, safe_regex
from core.api.errors import ValidationFailed
from core.timefmt import iso

TYPES = ("string", "number", "boolean", "date", "datetime", "json")
TYPE_ALIASES = {"text": "string", "bool": "boolean", "object": "json"}

MAX_TEXT_LENGTH = 1000  # characters of a string element
MAX_TEXT_BYTES = 2000  # and its UTF-8 bytes (a B-tree entry holds ~2,700 bytes)
MAX_ITEMS = 100  # elements of a multi value
MAX_JSON_BYTES = 16384  # canonical JSON of a json element
MAX_JSON_DEPTH = 20
MAX_ENUM_VALUES = 200
MAX_VALIDATIONS = 20
SAFE_INTEGER = 2**53 - 1  # integers beyond this would not survive a JavaScript client

# Validation rules: which types take them (multi-value rules: any type, multi value only).
ELEMENT_RULES = {
    "min": {"number", "date", "datetime"},
    "max": {"number", "date", "datetime"},
    "min_length": {"string"},
    "max_length": {"string"},
    "regex": {"string"},
    "enum": {"string", "number", "date", "datetime"},
}
LIST_RULES = ("min_items", "max_items")
RULES = (*ELEMENT_RULES, *LIST_RULES)
RULE_ALIASES = {"pattern": "regex", "choices": "enum"}
STRING_RULE_ALIASES = {"min": "min_length", "max": "max_length"}  # the seed's example: string + "min"

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_NUMBER_TEXT_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_KIND = {"string": "a string", "number": "a number", "boolean": "true or false",
         "date": "a date such as 2024-05-01", "datetime": "an ISO 8601 date-time such as 2024-05-01T10:30:00Z",
         "json": "a JSON value (not null)"}


class ValueInvalid(ValueError):
    """A value that its definition refuses; ``rule`` names what it broke ("type", "max_length", ...)."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule
        self.message = message


@dataclass(frozen=True)
class Spec:
    type: str
    multi_value: bool = False
    encrypted: bool = False
    validations: tuple = ()  # ((rule, value), ...), canonical, as parse_validations returns them
    slug: str = ""

    @classmethod
    def of(cls, definition) -> "Spec":
        return cls(type=definition.type, multi_value=definition.multi_value, encrypted=definition.encrypted,
                   validations=tuple((v["type"], _freeze(v["value"])) for v in definition.validations or ()),
                   slug=definition.slug)

    def rule(self, name: str, default=None):
        for rule, value in self.validations:
            if rule == name:
                return value
        return default

    def program(self):
        pattern = self.rule("regex")
        return None if pattern is None else _compiled(pattern)


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> list:
    """A regex validation's NFA program (patterns were checked when the definition was saved)."""
    return safe_regex.compile_pattern(pattern)


def _freeze(value):
    return tuple(value) if isinstance(value, list) else value


# --------------------------------------------------------------------------- types

def canonical_type(name) -> str:
    """The type a client's spelling names ("text" is "string"); ValueInvalid for anything else."""
    if not isinstance(name, str) or not name.strip():
        raise ValueInvalid("type", f"type must be one of {', '.join(TYPES)}.")
    lowered = name.strip().lower()
    lowered = TYPE_ALIASES.get(lowered, lowered)
    if lowered not in TYPES:
        raise ValueInvalid("type", f"type {name[:40]!r} is not supported; use one of {', '.join(TYPES)}.")
    return lowered


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _check_text(text: str, what: str = "the text") -> None:
    if "\x00" in text:
        raise ValueInvalid("type", f"{what} must not contain NUL characters.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueInvalid("type", f"{what} must not contain unpaired surrogates.")


def _check_json(value) -> None:
    stack = [(value, 1)]
    while stack:  # iterative: a deep value cannot blow the stack
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValueInvalid("type", f"must not be nested more than {MAX_JSON_DEPTH} levels deep.")
        if isinstance(item, dict):
            for key, sub in item.items():
                _check_text(key, "keys")
                stack.append((sub, depth + 1))
        elif isinstance(item, list):
            stack.extend((sub, depth + 1) for sub in item)
        elif isinstance(item, str):
            _check_text(item, "texts")
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValueInvalid("type", "numbers must be finite.")
        elif item is None and depth == 1:
            raise ValueInvalid("type", f"must be {_KIND['json']}.")
    if len(canonical_json(value).encode("utf-8")) > MAX_JSON_BYTES:
        raise ValueInvalid("type", f"must be at most {MAX_JSON_BYTES} bytes of JSON.")


def parse_date(raw) -> date:
    if isinstance(raw, str) and _DATE_RE.match(raw):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    raise ValueInvalid("type", f"must be {_KIND['date']}.")


def parse_datetime(raw) -> datetime:
    """An aware datetime in UTC; a value without an offset is taken as UTC."""
    if isinstance(raw, str) and _DATETIME_RE.match(raw) and len(raw) <= 40:
        try:
            parsed = datetime.fromisoformat(raw)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=timezone.utc)
            parsed = parsed.astimezone(timezone.utc)  # OverflowError past year 1 / 9999
        except (ValueError, OverflowError):
            pass
        else:
            return parsed.replace(microsecond=parsed.microsecond // 1000 * 1000)
    raise ValueInvalid("type", f"must be {_KIND['datetime']}.")


def parse_element(type_name: str, raw):
    """One element of ``type_name`` from JSON, in canonical form. Strict: JSON types are not coerced
    (a number sent as "42" is refused; see coerce_text for text sources)."""
    if type_name == "string":
        if not isinstance(raw, str):
            raise ValueInvalid("type", f"must be {_KIND['string']}.")
        _check_text(raw)
        if len(raw) > MAX_TEXT_LENGTH or len(raw.encode("utf-8")) > MAX_TEXT_BYTES:
            raise ValueInvalid("type", f"must be at most {MAX_TEXT_LENGTH} characters ({MAX_TEXT_BYTES} bytes).")
        return raw
    if type_name == "number":
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise ValueInvalid("type", f"must be {_KIND['number']}.")
        if isinstance(raw, float):
            if not math.isfinite(raw):
                raise ValueInvalid("type", "must be a finite number.")
            if raw.is_integer() and abs(raw) <= SAFE_INTEGER:
                return int(raw)
            return raw
        if abs(raw) > SAFE_INTEGER:
            raise ValueInvalid("type", f"must be an integer between -{SAFE_INTEGER} and {SAFE_INTEGER} "
                                       "(or a decimal number).")
        return raw
    if type_name == "boolean":
        if not isinstance(raw, bool):
            raise ValueInvalid("type", f"must be {_KIND['boolean']}.")
        return raw
    if type_name == "date":
        return parse_date(raw).isoformat()
    if type_name == "datetime":
        return iso(parse_datetime(raw))
    if type_name == "json":
        if raw is None:
            raise ValueInvalid("type", f"must be {_KIND['json']}.")
        _check_json(raw)
        return raw
    raise ValueInvalid("type", f"unknown type {type_name!r}.")


def coerce_text(type_name: str, text: str):
    """One element of ``type_name`` from text (a CSV cell, a default sent as a string): "42" is a number,
    "true" / "false" a boolean, a json element is JSON text."""
    if not isinstance(text, str):
        return parse_element(type_name, text)
    stripped = text.strip()
    if type_name == "number":
        if not _NUMBER_TEXT_RE.match(stripped) or len(stripped) > 40:
            raise ValueInvalid("type", f"must be {_KIND['number']}.")
        is_integer = not any(mark in stripped for mark in ".eE")
        try:
            return parse_element("number", int(stripped) if is_integer else float(stripped))
        except OverflowError:
            raise ValueInvalid("type", f"must be {_KIND['number']}.")
    if type_name == "boolean":
        if stripped.lower() in ("true", "false"):
            return stripped.lower() == "true"
        raise ValueInvalid("type", f"must be {_KIND['boolean']}.")
    if type_name in ("date", "datetime"):
        return parse_element(type_name, stripped)
    if type_name == "json":
        try:
            return parse_element("json", json.loads(text))
        except (ValueError, RecursionError):
            raise ValueInvalid("type", "must be JSON text.")
    return parse_element(type_name, text)


def _comparable(type_name: str, element):
    if type_name == "date":
        return date.fromisoformat(element)
    if type_name == "datetime":
        return parse_datetime(element)
    return element


# --------------------------------------------------------------------------- validations

def _rule_error(message: str) -> ValidationFailed:
    return ValidationFailed(f"validations: {message}", code="invalid_validation")


def _whole_number(rule: str, raw, upper: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= upper:
        raise _rule_error(f"the value of '{rule}' must be a whole number from 0 to {upper}.")
    return raw


def _rule_value(type_name: str, multi_value: bool, rule: str, raw):
    if rule in ("min_length", "max_length"):
        return _whole_number(rule, raw, MAX_TEXT_LENGTH)
    if rule in LIST_RULES:
        return _whole_number(rule, raw, MAX_ITEMS)
    if rule in ("min", "max"):
        try:
            return parse_element(type_name, raw)
        except ValueInvalid:
            raise _rule_error(f"the value of '{rule}' must be {_KIND[type_name]}.")
    if rule == "regex":
        try:
            safe_regex.compile_pattern(raw)
        except (safe_regex.UnsafePattern, re.error) as exc:
            raise _rule_error(f"the 'regex' pattern is refused: {exc}")
        return raw
    if rule == "enum":
        if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_ENUM_VALUES:
            raise _rule_error(f"the value of 'enum' must be a list of 1 to {MAX_ENUM_VALUES} allowed values.")
        values, seen = [], set()
        for index, item in enumerate(raw):
            try:
                element = parse_element(type_name, item)
            except ValueInvalid:
                raise _rule_error(f"enum[{index}] must be {_KIND[type_name]}.")
            key = canonical_json(element)
            if key in seen:
                raise _rule_error(f"enum lists the same value twice (enum[{index}]).")
            seen.add(key)
            values.append(element)
        return values
    raise AssertionError(rule)


def parse_validations(type_name: str, multi_value: bool, raw) -> list[dict]:
    """Canonical validations [{"type": rule, "value": ...}] for a definition of this type, or a 400
    naming the validation that is unknown, does not fit the type, or has a bad value."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _rule_error('must be a list of {"type": ..., "value": ...} objects.')
    if len(raw) > MAX_VALIDATIONS:
        raise _rule_error(f"at most {MAX_VALIDATIONS} validations.")
    result: dict[str, object] = {}
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("type"), str) or "value" not in item:
            raise _rule_error(f'validations[{index}] must be an object {{"type": ..., "value": ...}}.')
        sent = item["type"].strip().lower()
        rule = RULE_ALIASES.get(sent, sent)
        if type_name == "string":
            rule = STRING_RULE_ALIASES.get(rule, rule)
        if rule not in RULES:
            raise _rule_error(f"unknown validation '{item['type'][:40]}'; known: {', '.join(RULES)}.")
        if rule in LIST_RULES:
            if not multi_value:
                raise _rule_error(f"'{rule}' applies to multi value attributes only.")
        elif type_name not in ELEMENT_RULES[rule]:
            raise _rule_error(f"'{rule}' does not apply to {type_name} attributes.")
        if rule in result:
            raise _rule_error(f"'{rule}' is set twice.")
        result[rule] = _rule_value(type_name, multi_value, rule, item["value"])
    for low, high in (("min", "max"), ("min_length", "max_length"), ("min_items", "max_items")):
        if low in result and high in result and \
                _comparable(type_name, result[low]) > _comparable(type_name, result[high]):
            raise _rule_error(f"'{low}' is greater than '{high}'.")
    return [{"type": rule, "value": value} for rule, value in result.items()]


def spec_from(type_name: str, multi_value: bool, encrypted: bool, validations: list[dict], slug: str = "") -> Spec:
    return Spec(type=type_name, multi_value=multi_value, encrypted=encrypted, slug=slug,
                validations=tuple((v["type"], _freeze(v["value"])) for v in validations))


def _describe(value) -> str:
    return ", ".join(str(v) for v in value) if isinstance(value, tuple) else str(value)


def check_element(spec: Spec, element) -> None:
    """ValueInvalid when a canonical element breaks one of the spec's validations."""
    for rule, limit in spec.validations:
        if rule in ("min", "max"):
            current, bound = _comparable(spec.type, element), _comparable(spec.type, limit)
            if (rule == "min" and current < bound) or (rule == "max" and current > bound):
                word = "at least" if rule == "min" else "at most"
                raise ValueInvalid(rule, f"must be {word} {limit} ({rule}).")
        elif rule == "min_length" and len(element) < limit:
            raise ValueInvalid(rule, f"must be at least {limit} characters long (min_length).")
        elif rule == "max_length" and len(element) > limit:
            raise ValueInvalid(rule, f"must be at most {limit} characters long (max_length).")
        elif rule == "regex" and not safe_regex.search(spec.program(), element):
            raise ValueInvalid(rule, f"must match the pattern {limit} (regex).")
        elif rule == "enum" and element not in limit:
            raise ValueInvalid(rule, f"must be one of {_describe(limit)} (enum).")


def parse_value(spec: Spec, raw):
    """The canonical value for a definition: its type, a list when multi value (a single element
    otherwise), and every validation. ValueInvalid names the rule that failed (and the item)."""
    if spec.multi_value:
        if not isinstance(raw, list):
            raise ValueInvalid("multi_value", "must be a list (the attribute is multi value).")
        if len(raw) > MAX_ITEMS:
            raise ValueInvalid("multi_value", f"must have at most {MAX_ITEMS} items.")
        low, high = spec.rule("min_items"), spec.rule("max_items")
        if low is not None and len(raw) < low:
            raise ValueInvalid("min_items", f"must have at least {low} items (min_items).")
        if high is not None and len(raw) > high:
            raise ValueInvalid("max_items", f"must have at most {high} items (max_items).")
        elements = []
        for index, item in enumerate(raw):
            try:
                element = parse_element(spec.type, item)
                check_element(spec, element)
            except ValueInvalid as exc:
                raise ValueInvalid(exc.rule, f"item {index} {exc.message}")
            elements.append(element)
        return elements
    if isinstance(raw, list) and spec.type != "json":
        raise ValueInvalid("multi_value", "must be a single value, not a list (the attribute is not multi value).")
    element = parse_element(spec.type, raw)
    check_element(spec, element)
    return element


def parse_default(spec: Spec, raw):
    """A definition's default_value: None (none), or a valid value. "" means none, and a string is
    read as text for number / boolean (the SDK types default_value as a string) and as a JSON array for
    a multi value."""
    if raw is None or raw == "":
        return None
    if spec.multi_value and isinstance(raw, str):
        try:
            decoded = json.loads(raw)
        except (ValueError, RecursionError):
            decoded = None
        raw = decoded if isinstance(decoded, list) else [raw]
        raw = [_text_element(spec.type, item) for item in raw]
    elif not spec.multi_value:
        raw = _text_element(spec.type, raw)
    return parse_value(spec, raw)


def _text_element(type_name: str, item):
    if isinstance(item, str) and type_name in ("number", "boolean"):
        try:
            return coerce_text(type_name, item)
        except ValueInvalid:
            return item  # parse_value names the problem
    return item


# --------------------------------------------------------------------------- conversion (type changes)

def convert_element(old_type: str, new_type: str, element):
    """An element of ``old_type`` as ``new_type``; ValueInvalid when it has no faithful equivalent."""
    if old_type == new_type:
        return element
    if new_type == "json":
        return element
    if new_type == "string":
        if isinstance(element, str):
            return parse_element("string", element)
        if isinstance(element, bool):
            return "true" if element else "false"
        if isinstance(element, (int, float)):
            return str(element) if isinstance(element, int) else repr(element)
        return parse_element("string", canonical_json(element))
    if old_type == "date" and new_type == "datetime":
        return iso(datetime.combine(date.fromisoformat(element), datetime.min.time(), tzinfo=timezone.utc))
    if old_type == "datetime" and new_type == "date":
        moment = parse_datetime(element)
        if (moment.hour, moment.minute, moment.second, moment.microsecond) != (0, 0, 0, 0):
            raise ValueInvalid("type", "is a date-time that is not midnight UTC, so not a date.")
        return moment.date().isoformat()
    if old_type in ("string", "json") and isinstance(element, str):
        return coerce_text(new_type, element) if new_type != "json" else element
    if old_type == "json":
        return parse_element(new_type, element)
    raise ValueInvalid("type", f"has no {new_type} equivalent.")


def convert_value(value, old: Spec, new: Spec):
    """A stored value of ``old`` made a value of ``new`` (type, multi value and validations), or
    ValueInvalid. A single value becomes a one-item list; a list of one item becomes its item."""
    elements = value if old.multi_value else [value]
    converted = [convert_element(old.type, new.type, element) for element in elements]
    if new.multi_value:
        return parse_value(new, converted)
    if len(converted) != 1:
        raise ValueInvalid("multi_value", f"is a list of {len(converted)} items, not one value.")
    return parse_value(new, converted[0])


# --------------------------------------------------------------------------- index rows

def to_datetime(type_name: str, element) -> datetime:
    if type_name == "date":
        return datetime.combine(date.fromisoformat(element), datetime.min.time(), tzinfo=timezone.utc)
    return parse_datetime(element)


def index_fields(type_name: str, element, encrypted: bool = False) -> dict:
    """The typed index columns of one canonical element (the filter compiler uses it for operands too).
    Encrypted elements, and json ones, are found by a keyed digest of their canonical JSON only."""
    if encrypted or type_name == "json":
        return {"digest": crypto.digest(canonical_json(element))}
    if type_name == "string":
        return {"text_value": element, "text_lower": element.lower()}
    if type_name == "number":
        return {"number_value": float(element)}
    if type_name == "boolean":
        return {"bool_value": element}
    return {"time_value": to_datetime(type_name, element)}


def digest_candidates(element) -> list[str]:
    """Every configured key's digest of an element (equality on encrypted or json attributes)."""
    return crypto.digest_candidates(canonical_json(element))


def index_rows(spec: Spec, value) -> list[dict]:
    """One dict of columns per element (position and the typed columns) for UserAttributeValue."""
    elements = value if spec.multi_value else [value]
    return [{"position": position, **index_fields(spec.type, element, spec.encrypted)}
            for position, element in enumerate(elements)]
