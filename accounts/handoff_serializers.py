"""Request bodies of the sign-in token operations: the platform's issueSignInToken (our extension, strict
types) and the storefront's loginWithToken (the SDK's TokenRequestBodySchema: ``token``, may be blank)."""

from accounts.handoff import MAX_SECONDS
from accounts.serializers import text
from core.api.fields import WholeNumber
from core.api.serializers import InputSerializer


class SignInTokenOptionsSerializer(InputSerializer):
    expires_in = WholeNumber(1, MAX_SECONDS, unit="seconds",
                             help_text=f"Seconds the token stays valid (default SIGN_IN_TOKEN_SECONDS, at most {MAX_SECONDS}).")


class TokenLoginSerializer(InputSerializer):
    token = text(max_length=200)
