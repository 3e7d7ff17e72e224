"""OpenAPI: the bearer-token authentication (loaded by CoreConfig.ready), and the token and whoami bodies
(declared once: the views build these dicts, the document is derived from them)."""

from typing import Annotated, Literal, TypedDict

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object

from core.api.schema import Schema
from core.tenancy.models import ALL_SCOPES


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "core.tenancy.auth.BearerTokenAuthentication"
    name = "oauth2ClientCredentials"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Bearer")


Scope = Literal[ALL_SCOPES]
TokenResponse = TypedDict("TokenResponse", {
    "access_token": str,
    "token_type": Literal["Bearer"],
    "expires_in": Annotated[int, Schema(minimum=0, description="Seconds the access token stays valid.")],
    "refresh_token": str,
    "scope": list[Scope],
})
WhoAmI = TypedDict("WhoAmI", {
    "client_id": str,
    "company_id": Annotated[str, Schema(pattern=r"^\d+$")],
    "scopes": list[Scope],
})
