"""Request bodies of the forgotten-password operations, as the SDK's storefront models have them (every
field optional and may be blank; accounts.recovery says what each flow needs). ``captcha_code`` is
accepted and not checked (no captcha is verified, see docs/accounts.md)."""

from accounts.secrets import MAX_REQUEST_ID
from accounts.serializers import text
from core.api.serializers import InputSerializer


class SendResetEmailSerializer(InputSerializer):
    email = text()
    captcha_code = text(max_length=2000)


class SendResetMobileSerializer(InputSerializer):
    country_code = text(max_length=8)
    mobile = text(max_length=32)
    captcha_code = text(max_length=2000)


class ResetCodeSerializer(InputSerializer):
    code = text(max_length=200)


class ForgotPasswordSerializer(InputSerializer):
    code = text(max_length=200)
    password = text(max_length=128)


class SendForgotEmailOtpSerializer(InputSerializer):
    email = text()
    action = text(max_length=20)
    token = text(max_length=200)


class SendForgotMobileOtpSerializer(InputSerializer):
    mobile = text(max_length=32)
    country_code = text(max_length=8)
    action = text(max_length=20)
    token = text(max_length=200)
    android_hash = text(max_length=100)


class VerifyForgotEmailOtpSerializer(InputSerializer):
    email = text()
    otp = text(max_length=12)


class VerifyForgotMobileOtpSerializer(InputSerializer):
    request_id = text(max_length=MAX_REQUEST_ID)
    otp = text(max_length=12)
