"""The social sign-in request bodies: the SDK's OAuthRequestSchema and OAuthRequestAppleSchema (every
field optional and may be blank; the flow says what it needs). The ``profile`` is accepted and not trusted:
who the customer is comes from the provider (providers.py)."""

from rest_framework import serializers

from accounts.serializers import text
from core.api.serializers import InputSerializer

TOKEN = 8192  # providers' tokens are a few KB at most


class OAuth2Serializer(InputSerializer):
    access_token = text(max_length=TOKEN)
    expiry = serializers.IntegerField(required=False)
    refresh_token = text(max_length=TOKEN)


class ProfileSerializer(InputSerializer):
    last_name = text(max_length=100)
    image = text(max_length=1000)
    id = text(max_length=255)
    email = text()
    full_name = text(max_length=200)
    first_name = text(max_length=100)


class OAuthRequestSerializer(InputSerializer):
    """loginWithGoogle / …Android / …IOS, loginWithFacebook: ``oauth2.access_token`` is the provider's token
    (for Google an ID token, or an access token)."""

    is_signed_in = serializers.BooleanField(required=False)
    oauth2 = OAuth2Serializer(required=False)
    profile = ProfileSerializer(required=False)


class AppleOAuthSerializer(InputSerializer):
    identity_token = text(max_length=TOKEN)
    nonce = text(max_length=256, help_text="The raw nonce whose SHA-256 (hex) the app gave Apple; checked when "
                 "sent (not in the SDK's model: send it as an extra field).")


class AppleProfileSerializer(InputSerializer):
    last_name = text(max_length=100)
    full_name = text(max_length=200)
    first_name = text(max_length=100)


class OAuthRequestAppleSerializer(InputSerializer):
    """loginWithAppleIOS: ``oauth.identity_token`` is Apple's identity token."""

    user_identifier = text(max_length=255)
    oauth = AppleOAuthSerializer(required=False)
    profile = AppleProfileSerializer(required=False)
