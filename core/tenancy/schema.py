"""OpenAPI: the bearer-token authentication (loaded by CoreConfig.ready), and the token and whoami bodies
(declared once: the views build these dicts, the document is derived from them)."""

from typing import Annotated, Literal, TypedDict

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object

from core.api.schema import Schema, object_id_param
from core.tenancy.models import ALL_SCOPES


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "core.tenancy.auth.BearerTokenAuthentication"
    name = "oauth2ClientCredentials"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Bearer")


class ApplicationScopedSchema(AutoSchema):
    """The operations of core.tenancy.views.ApplicationScopedMixin: every one of them refuses a malformed
    application_id alike (a 400, core.tenancy.selectors.application_of_company), so the path says its pattern."""

    def get_override_parameters(self):
        return [APPLICATION_ID, *super().get_override_parameters()]


APPLICATION_ID = object_id_param("application_id", "The application's _id.")
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
