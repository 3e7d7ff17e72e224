"""Request bodies of the storefront account operations, as the SDK's storefront models have them
(``Joi.string().allow("")`` everywhere: every field optional and may be blank; the flows say what they
need)."""

from rest_framework import serializers

from accounts.secrets import MAX_REQUEST_ID
from core.api.serializers import InputSerializer


def text(**kwargs):
    return serializers.CharField(required=False, allow_blank=True, max_length=kwargs.pop("max_length", 320), **kwargs)


class PhoneSerializer(InputSerializer):
    country_code = text(max_length=8)
    mobile = text(max_length=32)


class FormRegisterSerializer(InputSerializer):
    first_name = text(max_length=100)
    last_name = text(max_length=100)
    gender = text(max_length=30)
    email = text()
    password = text(max_length=128)
    phone = PhoneSerializer(required=False)
    register_token = text(max_length=200)


class PasswordLoginSerializer(InputSerializer):
    username = text()
    password = text(max_length=128)


class SendMobileOtpSerializer(InputSerializer):
    mobile = text(max_length=32)
    country_code = text(max_length=8)
    action = text(max_length=20)
    token = text(max_length=200)
    android_hash = text(max_length=100)
    force = text(max_length=20)
    encrypt_otp = serializers.BooleanField(required=False)


class SendEmailOtpSerializer(InputSerializer):
    email = text()
    action = text(max_length=20)
    token = text(max_length=200)
    register_token = text(max_length=200)


class VerifyMobileOtpSerializer(InputSerializer):
    request_id = text(max_length=MAX_REQUEST_ID)
    register_token = text(max_length=200)
    otp = text(max_length=12)


class VerifyEmailOtpSerializer(InputSerializer):
    email = text()
    action = text(max_length=20)
    register_token = text(max_length=200)
    otp = text(max_length=12)


class UpdatePasswordSerializer(InputSerializer):
    old_password = text(max_length=128)
    new_password = text(max_length=128)
