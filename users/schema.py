"""Response shapes for the OpenAPI document (the SDK's UserSchema family)."""

from rest_framework import serializers


class EmailOut(serializers.Serializer):
    email = serializers.CharField()
    active = serializers.BooleanField()
    primary = serializers.BooleanField()
    verified = serializers.BooleanField()


class PhoneOut(serializers.Serializer):
    phone = serializers.CharField()
    country_code = serializers.IntegerField()
    active = serializers.BooleanField()
    primary = serializers.BooleanField()
    verified = serializers.BooleanField()


class UserOut(serializers.Serializer):
    _id = serializers.CharField()
    user_id = serializers.CharField()
    application_id = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    gender = serializers.CharField()
    dob = serializers.CharField()
    username = serializers.CharField()
    profile_pic_url = serializers.CharField()
    account_type = serializers.CharField()
    external_id = serializers.CharField()
    rr_id = serializers.CharField()
    meta = serializers.DictField()
    active = serializers.BooleanField()
    archive = serializers.BooleanField()
    status = serializers.ChoiceField(choices=["active", "blocked", "archived"])
    emails = EmailOut(many=True)
    phone_numbers = PhoneOut(many=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    deleted_on = serializers.DateTimeField(required=False)
    restore_until = serializers.DateTimeField(required=False)


class PageOut(serializers.Serializer):
    type = serializers.CharField()
    current = serializers.IntegerField()
    size = serializers.IntegerField()
    item_total = serializers.IntegerField()
    has_next = serializers.BooleanField()


class CustomerListResponse(serializers.Serializer):
    items = UserOut(many=True)
    page = PageOut()


class SearchResponse(serializers.Serializer):
    users = UserOut(many=True)


class CustomerResponse(serializers.Serializer):
    user = UserOut()
