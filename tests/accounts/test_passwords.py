"""Password rules, history, expiry and the same cost with or without a credential (accounts.passwords)."""

import statistics
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import passwords
from accounts.hashers import TunedArgon2PasswordHasher
from accounts.models import Credential
from core.api.errors import ValidationFailed
from sessions_app.platform_document import default_document

STRICT = {"configs": {"length": 10, "require_special_character": True, "require_number": True,
                      "require_capital_character": True}}


class CountingArgon2PasswordHasher(TunedArgon2PasswordHasher):
    """The real Argon2 hasher, counting its verifications (same algorithm name, so it checks our hashes)."""

    verified = 0

    def verify(self, password, encoded):
        type(self).verified += 1
        return super().verify(password, encoded)


def credential(password: str, *previous: str, age_days: int = 0) -> Credential:
    return Credential(password=passwords.hash_password(password), previous_passwords=list(previous),
                      password_changed_at=timezone.now() - timedelta(days=age_days))


def unmet(password, settings_dict):
    with pytest.raises(ValidationFailed) as caught:
        passwords.validate(password, settings_dict)
    return caught.value


def test_the_default_config_asks_for_eight_characters():
    defaults = default_document()["password_settings"]
    passwords.validate("abcdefgh", defaults)
    error = unmet("abcdefg", defaults)
    assert error.message == "password: must be at least 8 characters long."
    assert error.meta == {"errors": {"password": ["must be at least 8 characters long."]}}


def test_every_unmet_rule_is_named():
    error = unmet("abc", STRICT)
    assert error.meta["errors"]["password"] == [
        "must be at least 10 characters long.", "must contain a number.", "must contain a capital letter.",
        "must contain a special character (neither a letter, a digit nor a space).",
    ]
    assert error.code == "validation_error" and error.status_code == 400
    passwords.validate("Abcdefgh1!", STRICT)
    assert unmet("Abcdefgh1 x", STRICT).meta["errors"]["password"] == [
        "must contain a special character (neither a letter, a digit nor a space)."]


def test_too_long_and_missing_passwords_are_refused(settings):
    settings.PASSWORD_MAX_LENGTH = 20
    assert "at most 20" in unmet("a" * 21, {}).message
    for missing in (None, "", 12345678):
        assert unmet(missing, {}).message == "password: is required."


def test_hash_is_argon2id_and_check_tells_right_from_wrong():
    stored = credential("Secret-123")
    assert stored.password.startswith("argon2$argon2id$")
    assert passwords.check(stored, "Secret-123") is True
    assert passwords.check(stored, "secret-123") is False
    assert passwords.check(stored, None) is False
    assert passwords.check(None, "Secret-123") is False


def test_check_reports_a_hash_made_with_older_parameters(settings):
    settings.ARGON2_TIME_COST = 1
    stored = credential("Secret-123")
    settings.ARGON2_TIME_COST = 2
    upgraded = []
    assert passwords.check(stored, "Secret-123", on_upgrade=upgraded.append) is True
    assert len(upgraded) == 1 and "t=2" in upgraded[0]


def test_reused_looks_at_the_current_and_the_previous_passwords_up_to_the_count():
    older = [passwords.hash_password(p) for p in ("second-newest", "third-newest", "fourth-newest")]
    stored = credential("current", *older)
    assert passwords.reused("current", stored, 1)
    assert not passwords.reused("second-newest", stored, 1)
    assert passwords.reused("third-newest", stored, 3)
    assert not passwords.reused("fourth-newest", stored, 3)
    assert not passwords.reused("brand-new", stored, 10)
    assert not passwords.reused("current", stored, 0)
    assert not passwords.reused("current", None, 3)


def test_previous_after_change_keeps_the_newest_first_up_to_the_maximum(settings):
    settings.PASSWORD_HISTORY_MAX = 2
    stored = Credential(password="h3", previous_passwords=["h2", "h1"], password_changed_at=timezone.now())
    assert passwords.previous_after_change(stored) == ["h3", "h2"]
    assert passwords.previous_after_change(None) == []


def test_expiry_applies_only_when_required():
    old, fresh = credential("pw", age_days=91), credential("pw", age_days=89)
    assert passwords.expired(old, {"required": True, "duration": 90})
    assert not passwords.expired(fresh, {"required": True, "duration": 90})
    assert not passwords.expired(old, {"required": False, "duration": 90})
    assert not passwords.expired(None, {"required": True, "duration": 90})


def test_without_a_credential_check_still_verifies_one_hash(settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingArgon2PasswordHasher",  # in the place of the argon2 one
                                 *(h for h in settings.PASSWORD_HASHERS if "Argon2" not in h)]
    stored = credential("Secret-123")
    CountingArgon2PasswordHasher.verified = 0
    passwords.check(None, "Secret-123")
    assert CountingArgon2PasswordHasher.verified == 1
    passwords.check(stored, "wrong")
    assert CountingArgon2PasswordHasher.verified == 2


def test_without_a_credential_check_takes_as_long_as_with_one():
    stored = credential("Secret-123")
    passwords.check(None, "warm-up")

    def median(subject):
        runs = []
        for _ in range(7):
            started = time.perf_counter()
            passwords.check(subject, "Wrong-456")
            runs.append(time.perf_counter() - started)
        return statistics.median(runs)

    known, unknown = median(stored), median(None)
    assert 0.5 < unknown / known < 2, (known, unknown)
