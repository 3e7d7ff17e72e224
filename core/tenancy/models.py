"""Tenancy (companies own applications) and API access (clients, OAuth tokens, staff)."""

import hashlib

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from core.ids import new_object_id

SCOPE_CUSTOMERS_READ = "application/customers/read"
SCOPE_CUSTOMERS_WRITE = "application/customers/write"
SCOPE_SETTINGS_WRITE = "company/settings/write"
# Where an application's customer data is sent (webhook subscriptions): apart from editing customers.
SCOPE_WEBHOOKS_WRITE = "application/webhooks/write"
ALL_SCOPES = (SCOPE_CUSTOMERS_READ, SCOPE_CUSTOMERS_WRITE, SCOPE_SETTINGS_WRITE, SCOPE_WEBHOOKS_WRITE)


def hash_secret(secret: str) -> str:
    """Secrets we issue are 256-bit random strings, so a plain SHA-256 is a safe, fast digest."""
    return hashlib.sha256(secret.encode()).hexdigest()


class Company(models.Model):
    id = models.BigIntegerField(primary_key=True)
    name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "companies"

    def __str__(self):
        return f"{self.id} {self.name}".strip()


class Application(models.Model):
    """A sales channel (storefront) of a company; every customer belongs to one."""

    id = models.CharField(primary_key=True, max_length=24, default=new_object_id, editable=False)
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="applications")
    name = models.CharField(max_length=200)
    token_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.name} ({self.id})"


class ApiClient(models.Model):
    """OAuth client (client credentials grant) of one company."""

    client_id = models.CharField(primary_key=True, max_length=24, default=new_object_id, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="api_clients")
    name = models.CharField(max_length=200)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = ArrayField(models.CharField(max_length=64), default=list)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.name} ({self.client_id})"


class OAuthToken(models.Model):
    ACCESS = "access"
    REFRESH = "refresh"

    token_hash = models.CharField(primary_key=True, max_length=64)
    kind = models.CharField(max_length=10, choices=[(ACCESS, "access"), (REFRESH, "refresh")])
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="tokens")
    scopes = ArrayField(models.CharField(max_length=64), default=list)
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked = models.BooleanField(default=False)


class StaffProfile(models.Model):
    """Ties a Django staff user to the one company whose data they may see, with their role: ``full`` (every
    permission of the staff apps) or ``read_only`` (their view permissions only: sees, cannot change)."""

    FULL, READ_ONLY = "full", "read_only"
    ROLES = [(FULL, "full"), (READ_ONLY, "read-only")]

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="staff")
    role = models.CharField(max_length=10, choices=ROLES, default=FULL, db_default=FULL)

    def __str__(self):
        return f"{self.user} @ {self.company_id}"
