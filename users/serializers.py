"""Request validation for the Customers operations (shapes and types; rules live in services)."""

from django.conf import settings
from rest_framework import serializers

from core.api.fields import JSONObjectField, ObjectIdField, StrictBooleanField, StrictCharField, StringOrIntegerField


def text(max_length: int, **kwargs):
    return StrictCharField(max_length=max_length, required=False, allow_blank=True, trim_whitespace=True, **kwargs)


def password_hash_field():
    """Our extension of createUser / updateUser (users.hooks; the accounts app stores it): never returned."""
    return StrictCharField(
        max_length=1000, required=False, write_only=True, trim_whitespace=True,
        help_text="Extension of this service (not in the SDK's schema): a password hash moved in from another "
                  "platform (bcrypt, Argon2, PBKDF2, Django's formats, salted md5/sha1/sha256 as algo$salt$hash; "
                  "docs/migration.md). Stored as given, checked for its format only; the customer shows "
                  "has_old_password_hash true until the first sign-in re-hashes it. Never returned.")


class CreateUserSerializer(serializers.Serializer):
    phone_number = StrictCharField(max_length=30)
    country_code = StringOrIntegerField(required=False)
    email = text(254)
    first_name = text(100)
    last_name = text(100)
    gender = text(30)
    username = StrictCharField(max_length=150, required=False, allow_blank=True, trim_whitespace=True,
                               help_text="Generated from the email or phone when absent.")
    meta = JSONObjectField(required=False)
    external_id = text(100)
    rr_id = text(100)
    password_hash = password_hash_field()


class UserEmailSerializer(serializers.Serializer):
    email = StrictCharField(max_length=254)
    active = StrictBooleanField(required=False, default=True)
    primary = StrictBooleanField(required=False, default=False)
    verified = StrictBooleanField(required=False, default=False)


class UserPhoneSerializer(serializers.Serializer):
    phone = StrictCharField(max_length=30)
    country_code = StringOrIntegerField(required=False)
    active = StrictBooleanField(required=False, default=True)
    primary = StrictBooleanField(required=False, default=False)
    verified = StrictBooleanField(required=False, default=False)


class UpdateUserSerializer(serializers.Serializer):
    first_name = text(100)
    last_name = text(100)
    gender = text(30)
    external_id = text(100)
    rr_id = text(100)
    meta = JSONObjectField(required=False)
    emails = UserEmailSerializer(many=True, required=False, max_length=20)
    phone_numbers = UserPhoneSerializer(many=True, required=False, max_length=20)
    password_hash = password_hash_field()


class BlockUsersSerializer(serializers.Serializer):
    status = StrictBooleanField(help_text="The new `active` value: false blocks, true unblocks.")
    user_id = serializers.ListField(child=ObjectIdField(), allow_empty=False,
                                    max_length=settings.MAX_BULK_USER_IDS)
    reason = StrictCharField(max_length=1000)


class ArchiveUserSerializer(serializers.Serializer):
    user_id = ObjectIdField()
    reason = StrictCharField(max_length=1000, required=False, allow_blank=True)


class UnDeleteUserSerializer(serializers.Serializer):
    user_id = ObjectIdField()
    reason = StrictCharField(max_length=1000)
    reason_id = StrictCharField(max_length=100, required=False, allow_blank=True)
