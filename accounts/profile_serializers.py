"""Request bodies and query parameters of the signed-in customer's contact operations (accounts/profile.py),
as the SDK's storefront models have them: every field optional and may be blank; the flows say what
they need."""

from rest_framework import serializers

from accounts.secrets import MAX_REQUEST_ID
from accounts.serializers import SendEmailOtpSerializer, SendMobileOtpSerializer, text
from core.api.serializers import InputSerializer


class EditEmailSerializer(InputSerializer):
    """EditEmailRequestSchema: addEmail, setEmailAsPrimary, sendVerificationLinkToEmail."""

    email = text()


class EditMobileSerializer(InputSerializer):
    """EditMobileRequestSchema: addMobileNumber."""

    country_code = text(max_length=8)
    phone = text(max_length=32)


class MobileLinkSerializer(EditMobileSerializer):
    """SendVerificationLinkMobileRequestSchema: setMobileNumberAsPrimary, sendVerificationLinkToMobile (the
    flags describe the number; it is found by its digits)."""

    verified = serializers.BooleanField(required=False)
    active = serializers.BooleanField(required=False)
    primary = serializers.BooleanField(required=False)


class DeleteEmailQuery(InputSerializer):
    """deleteEmail's query: the flags are accepted as the SDK sends them; the email names the one to delete."""

    active = serializers.BooleanField(required=False)
    primary = serializers.BooleanField(required=False)
    verified = serializers.BooleanField(required=False)
    email = text()
    platform = text(max_length=64)


class DeleteMobileQuery(InputSerializer):
    active = serializers.BooleanField(required=False)
    primary = serializers.BooleanField(required=False)
    verified = serializers.BooleanField(required=False)
    country_code = text(max_length=8)
    phone = text(max_length=32)
    platform = text(max_length=64)


class CodeSerializer(InputSerializer):
    """CodeRequestBodySchema: verifyEmail, verifyMobile."""

    code = text(max_length=200)


class EntityOtpSendSerializer(SendMobileOtpSerializer, SendEmailOtpSerializer):
    """sendOTPOnPrimary / sendOTPForUpdate: SendMobileOtpRequestSchema (entity mobile) or
    SendEmailOtpRequestSchema (entity email)."""


class EntityOtpVerifySerializer(InputSerializer):
    """verifyOTPonPrimary / verifyOTPForUpdate: VerifyOtpRequestSchema (request_id) or
    VerifyEmailOtpRequestSchema (email)."""

    request_id = text(max_length=MAX_REQUEST_ID)
    email = text()
    action = text(max_length=20)
    register_token = text(max_length=200)
    otp = text(max_length=12)
