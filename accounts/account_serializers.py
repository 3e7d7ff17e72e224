"""Request bodies of updateProfile, deleteUser and updateUserAttributes (the SDK's storefront models:
every string optional and may be blank; accounts/account.py says what each flow needs)."""

from rest_framework import serializers

from accounts.secrets import MAX_REQUEST_ID
from accounts.serializers import text
from core.api.serializers import InputSerializer


class ProfileMobileSerializer(InputSerializer):
    phone = text(max_length=32)
    country_code = text(max_length=8)


class EditProfileSerializer(InputSerializer):
    encrypt_otp = serializers.BooleanField(required=False)
    first_name = text(max_length=100)
    last_name = text(max_length=100)
    mobile = ProfileMobileSerializer(required=False)
    country_code = text(max_length=8)
    email = text()
    gender = text(max_length=30)
    dob = text(max_length=40)
    profile_pic_url = text(max_length=1000)
    android_hash = text(max_length=100)
    sender = text(max_length=100)
    register_token = text(max_length=200)


class DeleteUserSerializer(InputSerializer):
    user_id = text(max_length=64)
    reason = text(max_length=1000)
    reason_id = text(max_length=100)
    request_id = text(max_length=MAX_REQUEST_ID)
    otp = text(max_length=12)


class UpdateAttributesSerializer(InputSerializer):
    attributes = serializers.DictField(child=serializers.JSONField(), allow_empty=False)
