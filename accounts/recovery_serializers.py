"""Request bodies of the forgotten-password operations, as the SDK's storefront models have them (every
field optional and may be blank; accounts.recovery says what each flow needs). ``captcha_code`` is
accepted and not checked (no captcha is verified, see docs/accounts.md)."""

from rest_framework import serializers

from accounts.secrets import MAX_REQUEST_ID
from accounts.serializers import text


class SendResetEmailSerializer(serializers.Serializer):
    email = text()
    captcha_code = text(max_length=2000)


class SendResetMobileSerializer(serializers.Serializer):
    country_code = text(max_length=8)
    mobile = text(max_length=32)
    captcha_code = text(max_length=2000)


class ResetCodeSerializer(serializers.Serializer):
    code = text(max_length=200)


class ForgotPasswordSerializer(serializers.Serializer):
    code = text(max_length=200)
    password = text(max_length=128)


class SendForgotEmailOtpSerializer(serializers.Serializer):
    email = text()
    action = text(max_length=20)
    token = text(max_length=200)


class SendForgotMobileOtpSerializer(serializers.Serializer):
    mobile = text(max_length=32)
    country_code = text(max_length=8)
    action = text(max_length=20)
    token = text(max_length=200)
    android_hash = text(max_length=100)


class VerifyForgotEmailOtpSerializer(serializers.Serializer):
    email = text()
    otp = text(max_length=12)


class VerifyForgotMobileOtpSerializer(serializers.Serializer):
    request_id = text(max_length=MAX_REQUEST_ID)
    otp = text(max_length=12)
