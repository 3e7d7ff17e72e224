"""users.contacts: the fast paths of normalize_email and parse_phone answer exactly what email_validator
and phonenumbers would."""

import random
import string

import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email
from phonenumbers import PhoneNumberType

from core.api.errors import ValidationFailed
from users import contacts


def validator_answer(text: str):
    try:
        return validate_email(text.strip(), check_deliverability=False, allow_smtputf8=True).normalized.lower()
    except EmailNotValidError:
        return None


def service_answer(text: str):
    try:
        return contacts.normalize_email(text)
    except ValidationFailed:
        return None


TRICKY = [
    "Priya.Sharma48@Gmail.com", " asha@example.com ", "a@b.co", "a..b@example.com", ".a@example.com",
    "a.@example.com", "a@example", "a@localhost", "a@x.local", "a@x.test", "a@test", "a@x.invalid",
    "a@x.onion", "a@1.2.3.4", "a@[127.0.0.1]", "a@-x.com", "a@x-.com", "a@ab--cd.com", "a@xn--bcher-kva.com",
    "a@x.c", "a@x.c0m", "a@x.123", "a b@x.com", "a@x..com", "a@.x.com", "\u212a@example.com",
    "josé@example.com", "a@exämple.com", "\"quoted\"@example.com", "a+tag@example.com", "a%b@example.com",
    "a_b-c@example.co.in", "x" * 64 + "@example.com", "x" * 65 + "@example.com",
    "a@" + "b" * 63 + ".com", "a@" + "b" * 64 + ".com", "a@" + ".".join(["abcdefghij"] * 24) + ".com",
    "A@EXAMPLE.COM", "a@example.com.", "a@sub.example.museum", "{a}@example.com", "a!b@example.com",
    "", "@example.com", "a@", "a@@example.com",
]


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_addresses_answer_as_the_validator_does(text):
    assert service_answer(text) == validator_answer(text)


def test_random_addresses_answer_as_the_validator_does():
    rng = random.Random(1234)
    alphabet = string.ascii_letters + string.digits + "._%+-!#$&'*/=?^`{|}~@\u00e9"
    for _ in range(3000):
        local = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        labels = ["".join(rng.choice(string.ascii_lowercase + string.digits + "-") for _ in range(rng.randint(0, 8)))
                  for _ in range(rng.randint(1, 3))]
        text = f"{local}@{'.'.join(labels)}"
        assert service_answer(text) == validator_answer(text), text


def test_mutations_of_valid_addresses_answer_as_the_validator_does():
    rng = random.Random(99)
    bases = ["priya.sharma48@gmail.com", "a_b+c@mail.example.co.in", "x-y%z@sub-domain.org", "k9@q.io"]
    noise = string.ascii_letters + string.digits + ".-_+%@!\u00e9 "
    accepted = 0
    for _ in range(5000):
        text = list(rng.choice(bases))
        for _ in range(rng.randint(0, 2)):
            position = rng.randrange(len(text) + 1)
            if rng.random() < 0.5 and text:
                del text[min(position, len(text) - 1)]
            else:
                text.insert(position, rng.choice(noise))
        text = "".join(text)
        answer = service_answer(text)
        assert answer == validator_answer(text), text
        accepted += answer is not None
    assert accepted > 1000  # the comparison covered plenty of valid addresses, not only refusals


# --------------------------------------------------------------------------- phones: the fast path is phonenumbers

def phonenumbers_answer(text: str, code: int):
    """What parse_phone answered before it had a fast path: phonenumbers alone."""
    try:
        number = phonenumbers.parse(text, phonenumbers.region_code_for_country_code(code))
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return number.country_code, phonenumbers.national_significant_number(number)


def phone_answer(text: str, code: int):
    try:
        phone = contacts.parse_phone(text, code)
    except ValidationFailed:
        return None
    return phone.country_code, phone.national


# (region, default country code of the spellings without +CC)
REGIONS = [("IN", 91), ("US", 1), ("CA", 1), ("GB", 44), ("IT", 39), ("VA", 39), ("DE", 49), ("BR", 55),
           ("AE", 971), ("RU", 7), ("KZ", 7), ("FR", 33), ("AU", 61), ("SG", 65), ("AR", 54), ("MX", 52),
           ("JP", 81), ("NL", 31), ("CN", 86), ("ID", 62), ("MA", 212), ("FI", 358)]


def spellings(code: int, nsn: str, rng: random.Random) -> list[str]:
    cut = rng.randrange(1, len(nsn))
    return [nsn, f"+{code}{nsn}", f"+{code} {nsn}", f"+{code}-{nsn[:cut]}-{nsn[cut:]}", f"{code}{nsn}",
            f"00{code}{nsn}", f"0{nsn}", f"{nsn[:cut]} {nsn[cut:]}", f"{nsn[:cut]}-{nsn[cut:]}", f"+{code}0{nsn}",
            nsn[:-1], nsn + "0", nsn[:2], f"+{code}", f" {nsn} ", f"({nsn[:3]}) {nsn[3:]}", f"{nsn}x12"]


def test_the_fast_path_answers_exactly_as_phonenumbers():
    rng = random.Random(2024)
    fast = compared = 0
    for region, default in REGIONS:
        for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.TOLL_FREE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            base = phonenumbers.national_significant_number(example)
            for _ in range(40):
                digits = list(base)
                for _ in range(rng.randint(0, 3)):  # nearby numbers, valid and not
                    digits[rng.randrange(len(digits))] = rng.choice("0123456789")
                nsn = "".join(digits)
                for code in {example.country_code, default, 91}:
                    for text in spellings(example.country_code, nsn, rng):
                        assert phone_answer(text, code) == phonenumbers_answer(text, code), (text, code)
                        fast += contacts._simple_phone(text.strip(), code) is not None
                        compared += 1
    assert fast > compared / 5  # the comparison covered the fast path, not only the fallback


@pytest.mark.parametrize("text,code,e164", [
    ("9876543210", 91, "+919876543210"), ("+91 98765 43210", 91, "+919876543210"),
    ("919876543210", 91, "+919876543210"), ("09876543210", 91, "+919876543210"),
    ("+39 06 6982 1234", 91, "+390669821234"), ("0669821234", 39, "+390669821234"),  # Italy keeps its 0
    ("+44 20 7946 0958", 91, "+442079460958"), ("020 7946 0958", 44, "+442079460958"),
    ("12345", 91, None), ("+0 12345678", 91, None), ("98765432101234567890", 91, None),
])
def test_e164_keys(text, code, e164):
    assert contacts.e164_or_none(text, code) == e164


def test_calling_codes_are_prefix_free_so_one_split_fits():
    known = [code for code in range(1, 1000) if phonenumbers.region_code_for_country_code(code) != "ZZ"]
    assert not [(a, b) for a in known for b in known if a != b and str(b).startswith(str(a))]
    assert contacts.split_calling_code("919876") == (91, "9876")
    assert contacts.split_calling_code("1") == (1, "")
    assert contacts.split_calling_code("²91") is None and contacts.split_calling_code("") is None
