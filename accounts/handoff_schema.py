"""The answer of issueSignInToken (our extension of the platform API), declared once: the view builds this
dict and the OpenAPI document is derived from it. loginWithToken answers accounts.schema.LoginSuccess."""

from typing import Annotated, TypedDict

from accounts.handoff import MAX_SECONDS
from core.api.schema import Instant, Schema

SignInToken = TypedDict("SignInToken", {
    "token": Annotated[str, Schema(description="The single-use sign-in token: loginWithToken's body {token}.")],
    "expires_in": Annotated[int, Schema(minimum=1, maximum=MAX_SECONDS, description="Seconds it stays valid.")],
    "expires_at": Instant,
})
