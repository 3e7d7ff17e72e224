"""Writes of the tenancy and API-access rules: applications, API clients, OAuth tokens, staff."""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from core.api.errors import ServiceError, ValidationFailed
from core.ids import is_object_id
from core.tenancy.models import ALL_SCOPES, ApiClient, Application, Company, OAuthToken, StaffProfile, hash_secret
from core.tenancy import staff_permissions
from core.tenancy.schema import TokenResponse


class OAuthError(ServiceError):
    """RFC 6749 §5.2 errors: the code is the OAuth error name."""

    status_code = 400


def ensure_company(company_id: int, name: str = "") -> Company:
    company, _ = Company.objects.get_or_create(id=company_id, defaults={"name": name})
    return company


@transaction.atomic
def create_application(*, company_id: int, name: str, application_id: str | None = None) -> tuple[Application, str]:
    """Create an application; return it with its storefront token (shown once, stored hashed)."""
    if application_id is not None and not is_object_id(application_id):
        raise ValidationFailed("application id must be 24 lowercase hexadecimal characters.")
    if not name.strip():
        raise ValidationFailed("name must not be empty.")
    if application_id and Application.objects.filter(id=application_id).exists():
        raise ValidationFailed(f"application {application_id} already exists.", code="conflict")
    token = secrets.token_urlsafe(32)
    fields = {"company": ensure_company(company_id), "name": name.strip(), "token_hash": hash_secret(token)}
    if application_id:
        fields["id"] = application_id
    return Application.objects.create(**fields), token


def rotate_application_token(application_id: str) -> tuple[Application, str]:
    """A new storefront token for the application (shown once); the old one stops working at once."""
    application = Application.objects.filter(id=application_id).first() if is_object_id(application_id) else None
    if application is None:
        raise ValidationFailed(f"application {application_id} does not exist.", code="not_found")
    token = secrets.token_urlsafe(32)
    application.token_hash = hash_secret(token)
    application.save(update_fields=["token_hash"])
    return application, token


def parse_scopes(raw: str | None) -> list[str]:
    if not raw:
        return list(ALL_SCOPES)
    scopes = [s.strip() for s in raw.split(",") if s.strip()]
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown:
        raise ValidationFailed(f"unknown scopes {unknown}; known scopes are {list(ALL_SCOPES)}.")
    return scopes


@transaction.atomic
def create_api_client(*, company_id: int, name: str, scopes: list[str] | None = None) -> tuple[ApiClient, str]:
    """Create an OAuth client; return it with its secret (shown once, stored hashed)."""
    secret = secrets.token_urlsafe(32)
    client = ApiClient.objects.create(
        company=ensure_company(company_id),
        name=name.strip() or "api client",
        secret_hash=hash_secret(secret),
        scopes=list(scopes or ALL_SCOPES),
    )
    return client, secret


def _api_client(client_id: str) -> ApiClient:
    client = ApiClient.objects.select_for_update().filter(client_id=client_id).first() \
        if is_object_id(client_id) else None
    if client is None:
        raise ValidationFailed(f"API client {client_id} does not exist.", code="not_found")
    return client


def _revoke_tokens(client: ApiClient) -> int:
    return OAuthToken.objects.filter(client=client, revoked=False).update(revoked=True)


@transaction.atomic
def rotate_api_client_secret(client_id: str) -> tuple[ApiClient, str]:
    """A new secret for the client (shown once, stored hashed). The old secret stops working at once, and
    so do the tokens issued with it: a secret is rotated because it may have leaked, and whoever held it
    may hold tokens too. The client gets a token again with the new secret."""
    client = _api_client(client_id)
    secret = secrets.token_urlsafe(32)
    client.secret_hash = hash_secret(secret)
    client.save(update_fields=["secret_hash"])
    _revoke_tokens(client)
    return client, secret


@transaction.atomic
def update_api_client(client_id: str, *, name: str, scopes: list[str]) -> ApiClient:
    """A new name and scopes. Taking a scope away also ends the client's tokens (they carry the scopes they
    were issued with): the narrower client gets a token again."""
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown or not scopes:
        raise ValidationFailed(f"scopes must be some of {list(ALL_SCOPES)}.")
    client = _api_client(client_id)
    narrowed = bool(set(client.scopes) - set(scopes))
    client.name, client.scopes = name.strip() or client.name, list(scopes)
    client.save(update_fields=["name", "scopes"])
    if narrowed:
        _revoke_tokens(client)
    return client


@transaction.atomic
def revoke_api_client(client_id: str) -> tuple[ApiClient, int]:
    """The client turned off: no new token, and every token it holds stops working at once; how many
    were revoked. (Turning it on again takes a new secret: rotate_api_client_secret.)"""
    client = _api_client(client_id)
    client.is_active = False
    client.save(update_fields=["is_active"])
    return client, _revoke_tokens(client)


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    refresh_token: str
    expires_in: int
    scopes: list[str]

    def as_response(self) -> TokenResponse:
        return {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token,
            "scope": self.scopes,
        }


def authenticate_client(*, company_id: int, client_id: str, client_secret: str) -> ApiClient:
    # Client ids are object ids; anything else (even a NUL byte, which PostgreSQL refuses) is unknown.
    client = ApiClient.objects.filter(client_id=client_id, is_active=True).first() if is_object_id(client_id) else None
    if client is None or not secrets.compare_digest(client.secret_hash, hash_secret(client_secret)):
        raise OAuthError("Client authentication failed.", code="invalid_client", status_code=401)
    if client.company_id != company_id:
        raise OAuthError("This client does not belong to the company in the URL.", code="invalid_client", status_code=401)
    return client


@transaction.atomic
def issue_token(client: ApiClient, scopes: list[str] | None = None) -> IssuedToken:
    now = timezone.now()
    scopes = list(scopes if scopes is not None else client.scopes)
    access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(48)
    OAuthToken.objects.bulk_create(
        [
            OAuthToken(
                token_hash=hash_secret(access), kind=OAuthToken.ACCESS, client=client, scopes=scopes,
                expires_at=now + timedelta(seconds=settings.ACCESS_TOKEN_TTL_SECONDS),
            ),
            OAuthToken(
                token_hash=hash_secret(refresh), kind=OAuthToken.REFRESH, client=client, scopes=scopes,
                expires_at=now + timedelta(seconds=settings.REFRESH_TOKEN_TTL_SECONDS),
            ),
        ]
    )
    ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
    # Expired tokens are dead weight; dropping a client's old ones here keeps the table small.
    OAuthToken.objects.filter(client=client, expires_at__lt=now - timedelta(days=1)).delete()
    return IssuedToken(access, refresh, settings.ACCESS_TOKEN_TTL_SECONDS, scopes)


@transaction.atomic
def refresh_access_token(client: ApiClient, refresh_token: str) -> IssuedToken:
    """Rotate: the refresh token is spent, a new access and refresh pair is issued."""
    token = (
        OAuthToken.objects.select_for_update()
        .filter(token_hash=hash_secret(refresh_token), kind=OAuthToken.REFRESH, client=client, revoked=False)
        .first()
    )
    if token is None or token.expires_at <= timezone.now():
        raise OAuthError("The refresh token is invalid, expired or already used.", code="invalid_grant")
    token.revoked = True
    token.save(update_fields=["revoked"])
    scopes = [s for s in token.scopes if s in client.scopes]
    return issue_token(client, scopes)


def create_staff_user(*, company_id: int, username: str, password: str, email: str = "",
                      role: str = StaffProfile.FULL):
    """A company staff user for the admin console, with the permissions of ``role`` (staff_permissions)."""
    from django.contrib.auth.models import Permission
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise ValidationFailed(f"user {username!r} already exists.", code="conflict")
    try:
        validate_password(password, User(username=username, email=email))
    except ValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages))
    _check_role(role)
    with transaction.atomic():
        user = User.objects.create_user(username=username, password=password, email=email, is_staff=True)
        StaffProfile.objects.create(user=user, company=ensure_company(company_id), role=role)
        user.user_permissions.set(staff_permissions.of_role(
            Permission.objects.filter(content_type__app_label__in=STAFF_APPS), role))
    return user


def _check_role(role: str) -> None:
    if role not in dict(StaffProfile.ROLES):
        raise ValidationFailed(f"role must be one of {[r for r, _ in StaffProfile.ROLES]}.")


def set_staff_role(user, role: str) -> None:
    """The staff user's role, and the permissions of the staff apps that go with it (staff_permissions)."""
    from django.contrib.auth.models import Permission

    _check_role(role)
    with transaction.atomic():
        StaffProfile.objects.filter(user=user).update(role=role)
        staff_apps = Permission.objects.filter(content_type__app_label__in=STAFF_APPS)
        user.user_permissions.remove(*staff_apps)
        user.user_permissions.add(*staff_permissions.of_role(staff_apps, role))


# Apps whose models company staff may see and edit in the admin (always filtered by company).
STAFF_APPS = ("users", "customer_groups", "attributes", "sessions_app", "webhooks")
