"""OpenAPI: how the storefront endpoints authenticate (the SDK's ApplicationClient)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class StorefrontScheme(OpenApiAuthenticationExtension):
    target_class = "sessions_app.storefront.StorefrontAuthentication"
    name = ["storefrontApplication", "storefrontSession"]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "http", "scheme": "bearer",
             "description": "Authorization: Bearer base64(application_id:application_token)"},
            {"type": "apiKey", "in": "cookie", "name": "f.session",
             "description": "The signed session value from createUserSession."},
        ]
