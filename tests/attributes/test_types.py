"""attributes.types and attributes.safe_regex on their own: what the value API, the bulk updates and the
filter compiler all rely on."""

import random
import re
import time
from datetime import datetime, timezone

import pytest

from attributes import safe_regex, types
from core.api.errors import ValidationFailed

PATTERNS = [
    r"^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$", r"(a|ab)*c", r"^(a+)+$", r"colou?r", r"\bcat\b", r"\Bat",
    r"^\s*$", r"x{2,4}y", r"[^abc]+$", r"a.c", r"^$", r"(?:foo|bar|baz){1,3}$", r"\w+\W\d", r"a*?b",
    r"^gold|silver$", r"\Aab\Z", r"[\d-]{3}", r"\D\S", r"[a-c\s]{2}$", r"(?P<x>ab)+", r"^\d{4}-\d{2}$",
]
SAMPLES = ["a@b.co", "gold", "silver", "colour", "color", "the cat sat", "abab c", "xxxy", "foobar", "foo", "",
           "\n", "ab\n", "2024-05", "1-2-3", "at bat", "ABC", "é_1 x"]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_safe_regex_answers_as_re_search(pattern):
    program = safe_regex.compile_pattern(pattern)
    generator = random.Random(pattern)
    texts = SAMPLES + ["".join(generator.choice("abcx1 2@.\n_-Zfo") for _ in range(generator.randint(0, 9)))
                       for _ in range(400)]
    for text in texts:
        assert safe_regex.search(program, text) == bool(re.search(pattern, text)), (pattern, text)


@pytest.mark.parametrize("pattern", [r"(\d+)+\d+\d+x", r"(a|a)*(a+)+b", r"\d+\d+\d+\d+\d+x", r"(?:\w*\d*\s*){30}z"])
def test_safe_regex_cost_is_bounded(pattern):
    program = safe_regex.compile_pattern(pattern)
    started = time.monotonic()
    assert safe_regex.search(program, "1" * 1000) is False
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize("pattern,fragment", [
    (r"(a)\1", "backreferences"), (r"(?P<n>a)(?P=n)", "backreferences"), (r"(?<=a)b", "lookahead"),
    (r"(?!a)b", "lookahead"), (r"(?i)a", "flags"), (r"(?s:a.)", "flags"), (r"a*+", "not supported"),
    (r"(?>ab)", "not supported"), ("a" * 201, "200"), ("", "empty"), ("[a-", "unterminated"),
    ("x{1200}", "too complex"),
])
def test_safe_regex_refuses(pattern, fragment):
    with pytest.raises((safe_regex.UnsafePattern, re.error), match=fragment):
        safe_regex.compile_pattern(pattern)


@pytest.mark.parametrize("type_name,text,element", [
    ("number", "42", 42), ("number", " -2.50 ", -2.5), ("number", "1e3", 1000), ("boolean", "TRUE", True),
    ("boolean", "false", False), ("date", "2024-05-01", "2024-05-01"), ("json", '{"a": 1}', {"a": 1}),
    ("string", " keep spaces ", " keep spaces "), ("datetime", "2024-05-01T10:00:00Z", "2024-05-01T10:00:00.000Z"),
])
def test_coerce_text(type_name, text, element):
    assert types.coerce_text(type_name, text) == element


@pytest.mark.parametrize("type_name,text", [("number", "4 2"), ("number", "0x10"), ("number", "nan"),
                                            ("number", "1e999"), ("boolean", "yes"), ("json", "{"),
                                            ("date", "2024-13-01")])
def test_coerce_text_refuses(type_name, text):
    with pytest.raises(types.ValueInvalid):
        types.coerce_text(type_name, text)


def test_index_fields_for_filter_operands():
    assert types.index_fields("string", "Gold") == {"text_value": "Gold", "text_lower": "gold"}
    assert types.index_fields("number", 3) == {"number_value": 3.0}
    assert types.index_fields("boolean", True) == {"bool_value": True}
    assert types.index_fields("date", "2024-05-01") == {"time_value": datetime(2024, 5, 1, tzinfo=timezone.utc)}
    encrypted = types.index_fields("string", "Gold", encrypted=True)
    assert list(encrypted) == ["digest"] and encrypted["digest"] == types.digest_candidates("Gold")[0]
    assert types.index_fields("json", {"b": 1, "a": 2}) == types.index_fields("json", {"a": 2, "b": 1})


def test_specs_parse_and_convert():
    spec = types.spec_from("string", True, False, types.parse_validations("string", True, [
        {"type": "max", "value": 3}, {"type": "max_items", "value": 2}]))
    assert spec.rule("max_length") == 3
    assert types.parse_value(spec, ["ab", "c"]) == ["ab", "c"]
    with pytest.raises(types.ValueInvalid, match="item 1 must be at most 3"):
        types.parse_value(spec, ["ab", "cdef"])
    number = types.spec_from("number", False, False, [])
    assert types.convert_value(["12"], types.spec_from("string", True, False, []), number) == 12
    with pytest.raises(ValidationFailed, match="enum"):
        types.parse_validations("boolean", False, [{"type": "enum", "value": [True]}])
    assert types.canonical_type(" TEXT ") == "string"
