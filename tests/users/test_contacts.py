"""users.contacts: the fast path of normalize_email never accepts what email_validator refuses, and
answers exactly what it would."""

import random
import string

import pytest
from email_validator import EmailNotValidError, validate_email

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
