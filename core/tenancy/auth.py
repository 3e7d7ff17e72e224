"""Bearer-token authentication for the platform API."""

from dataclasses import dataclass

from django.db import connection
from django.utils import timezone
from rest_framework import authentication, exceptions

from core.tenancy.models import ApiClient, OAuthToken, hash_secret

# Every API call runs this lookup, so it is one raw query (a queryset's compilation costs more than
# PostgreSQL's answer); the instances it builds are what
# ``OAuthToken.objects.select_related("client").only(...)`` would give: other fields load on access.
# Columns in the models' field order, as Model.from_db() expects them.
_TOKEN_FIELDS = ["token_hash", "kind", "client_id", "scopes", "expires_at", "revoked"]
_CLIENT_FIELDS = ["client_id", "company_id", "name", "is_active"]
_TOKEN_SQL = (
    "SELECT t.token_hash, t.kind, t.client_id, t.scopes, t.expires_at, t.revoked,"
    " c.client_id, c.company_id, c.name, c.is_active"
    " FROM core_oauthtoken t JOIN core_apiclient c ON c.client_id = t.client_id"
    " WHERE t.token_hash = %s AND t.kind = %s"
)


def _access_token(token_hash: str) -> OAuthToken | None:
    with connection.cursor() as cursor:
        cursor.execute(_TOKEN_SQL, [token_hash, OAuthToken.ACCESS])
        row = cursor.fetchone()
    if row is None:
        return None
    token = OAuthToken.from_db(connection.alias, _TOKEN_FIELDS, row[:6])
    client = ApiClient.from_db(connection.alias, _CLIENT_FIELDS, row[6:])
    OAuthToken.client.field.set_cached_value(token, client)
    return token


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
        token = _access_token(hash_secret(parts[1]))
        if token is None or token.revoked or not token.client.is_active:
            raise exceptions.AuthenticationFailed("The access token is invalid.")
        if token.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed("The access token has expired.")
        client = token.client
        principal = ApiPrincipal(client.client_id, client.name, client.company_id, frozenset(token.scopes))
        return principal, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
