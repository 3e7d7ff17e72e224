"""Request bodies of the sign-in token operations: the platform's issueSignInToken (our extension, strict
types) and the storefront's loginWithToken (the SDK's TokenRequestBodySchema: ``token``, may be blank)."""

from rest_framework import serializers

from accounts.handoff import MAX_SECONDS
from accounts.serializers import text


class WholeSeconds(serializers.IntegerField):
    """A JSON whole number (1.0 is 1; "60", true and 1.5 are refused) between 1 and MAX_SECONDS."""

    default_error_messages = {"invalid": "must be a whole number of seconds.", "null": "must be a number."}

    def __init__(self, **kwargs):
        between = f"must be between 1 and {MAX_SECONDS} seconds."
        super().__init__(min_value=1, max_value=MAX_SECONDS, required=False,
                         error_messages={"min_value": between, "max_value": between}, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        if isinstance(data, float):
            if not data.is_integer():
                self.fail("invalid")
            data = int(data)
        return super().to_internal_value(data)


class SignInTokenOptionsSerializer(serializers.Serializer):
    expires_in = WholeSeconds(help_text="Seconds the token stays valid (default SIGN_IN_TOKEN_SECONDS, "
                                        f"at most {MAX_SECONDS}).")


class TokenLoginSerializer(serializers.Serializer):
    token = text(max_length=200)
