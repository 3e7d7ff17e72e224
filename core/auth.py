"""Bearer-token authentication for the platform API."""

from dataclasses import dataclass

from django.utils import timezone
from rest_framework import authentication, exceptions

from core.models import OAuthToken, hash_secret


@dataclass(frozen=True)
class ApiPrincipal:
    """Who is calling: an API client of one company, with the scopes of its token."""

    client_id: str
    client_name: str
    company_id: int
    scopes: frozenset

    is_authenticated = True
    actor_type = "api_client"

    @property
    def actor_id(self) -> str:
        return self.client_id

    @property
    def actor_name(self) -> str:
        return self.client_name


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() != "bearer":
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <access_token>'.")
        token = (
            OAuthToken.objects.select_related("client")
            .filter(token_hash=hash_secret(parts[1]), kind=OAuthToken.ACCESS)
            .only("expires_at", "revoked", "scopes", "client__client_id", "client__name",
                  "client__company_id", "client__is_active")
            .first()
        )
        if token is None or token.revoked or not token.client.is_active:
            raise exceptions.AuthenticationFailed("The access token is invalid.")
        if token.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed("The access token has expired.")
        client = token.client
        principal = ApiPrincipal(client.client_id, client.name, client.company_id, frozenset(token.scopes))
        return principal, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
