"""Admin console: tenancy and API access.

Applications are created with ``manage.py create_application`` (its token shown once there). API clients
are issued here by staff of the full role (their company's) and superusers, or with ``manage.py
create_api_client``: the secret is shown once, on the page right after it is made (or rotated), and never
again; the admin never shows a hash. Company staff may view their own company, its applications and API
clients; only superusers change companies and applications.
"""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import reverse

from core.tenancy.scoping import (
    CompanyScopedAdminMixin,
    CompanyScopedRelatedFilter,
    ReadOnlyAdminMixin,
    SuperuserWritesMixin,
    company_scope,
    is_active_superuser,
    manages_integrations,
)
from core.tenancy.models import ALL_SCOPES, ApiClient, Application, Company, OAuthToken, StaffProfile
from core.tenancy import services

admin.site.site_header = "Customer management console"
admin.site.site_title = "Customer management"
admin.site.index_title = "Console"
admin.site.site_url = None  # the service has no web site besides this console and the API


class SuperuserOnlyMixin(SuperuserWritesMixin):
    """Invisible to everybody but superusers, whatever permissions a staff user holds."""

    def has_module_permission(self, request):
        return is_active_superuser(request)

    def has_view_permission(self, request, obj=None):
        return is_active_superuser(request)


def shown_once(model_admin, request, title: str, *, secret_name: str, note: str, rows: list[tuple], cells: tuple):
    """The one page that ever shows a new secret (a client secret, a storefront token): right after it was
    made, not stored, not cached, never shown again. ``rows``: (object, secret) pairs; ``cells``: (title, css
    class, value of (object, secret)) per column after the object's name."""
    opts = model_admin.model._meta
    context = {
        **model_admin.admin_site.each_context(request), "title": title, "opts": opts, "secret_name": secret_name,
        "note": note, "columns": [{"title": opts.verbose_name}] + [{"title": t} for t, _, _ in cells],
        "back": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        "rows": [{"name": str(getattr(obj, "name", obj)),
                  "link": reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]),
                  "cells": [{"css": css, "value": value(obj, secret)} for _, css, value in cells]}
                 for obj, secret in rows],
    }
    response = TemplateResponse(request, "admin/core/shown_once.html", context)
    response["Cache-Control"] = "no-store"
    return response


@admin.register(Company)
class CompanyAdmin(SuperuserWritesMixin, CompanyScopedAdminMixin, admin.ModelAdmin):
    company_field = "pk"
    staff_can_view = True  # their own company, read-only
    list_display = ("id", "name", "created_at")
    search_fields = ("=id", "name")
    readonly_fields = ("created_at",)
    ordering = ("id",)

    def get_readonly_fields(self, request, obj=None):
        # The id is the company's number on the platform: set once.
        return ("id", "created_at") if obj is not None else ("created_at",)


@admin.register(Application)
class ApplicationAdmin(SuperuserWritesMixin, CompanyScopedAdminMixin, admin.ModelAdmin):
    company_field = "company"
    staff_can_view = True
    list_display = ("id", "name", "company", "created_at")
    list_select_related = ("company",)
    list_filter = (("company", CompanyScopedRelatedFilter),)
    search_fields = ("=id", "name")
    fields = ("id", "name", "company", "created_at", "updated_at")  # never token_hash
    readonly_fields = ("id", "company", "created_at", "updated_at")
    ordering = ("company_id", "name")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    actions = ("rotate_tokens",)

    def has_add_permission(self, request):
        return False  # manage.py create_application issues the storefront token

    def has_delete_permission(self, request, obj=None):
        return False  # would delete every customer of the sales channel

    def has_rotate_permission(self, request):
        return manages_integrations(request)

    @admin.action(description="Rotate the storefront token of selected applications (the old one ends at once)",
                  permissions=["rotate"])
    def rotate_tokens(self, request, queryset):
        """The new token, shown on this page only: the storefront's SDK configuration takes it."""
        rotated = [services.rotate_application_token(application.pk) for application in queryset[:100]]
        return shown_once(self, request, "New storefront tokens", secret_name="token", rows=rotated,
                          note="The old token has stopped working: give the new one to the storefront (the SDK's "
                               "applicationID and applicationToken).",
                          cells=(("id", "application-id", lambda a, _: a.id),
                                 ("storefront token", "application-token", lambda _, token: token)))


class ApiClientForm(forms.ModelForm):
    scopes = forms.TypedMultipleChoiceField(choices=[(s, s) for s in ALL_SCOPES],
                                            widget=forms.CheckboxSelectMultiple, required=True)

    class Meta:
        model = ApiClient
        fields = ("company", "name", "scopes")


@admin.register(ApiClient)
class ApiClientAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    """Issue (the secret shown once), rotate the secret (shown once), revoke: through core.tenancy.services."""

    company_field = "company"
    staff_can_view = True
    form = ApiClientForm
    actions = ("rotate_secrets", "revoke_clients")
    list_display = ("name", "client_id", "company", "scopes_display", "is_active", "last_used_at")
    list_select_related = ("company",)
    list_filter = ("is_active", ("company", CompanyScopedRelatedFilter))
    search_fields = ("=client_id", "name")
    readonly_fields = ("client_id", "company", "is_active", "created_at", "last_used_at")
    ordering = ("company_id", "name")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description="scopes")
    def scopes_display(self, obj):
        return ", ".join(obj.scopes)

    # --- who writes: superusers and full staff (of their company's clients); nobody deletes (revoke)

    def has_add_permission(self, request):
        return manages_integrations(request)

    def has_change_permission(self, request, obj=None):
        return manages_integrations(request)

    def has_delete_permission(self, request, obj=None):
        return False  # revoked instead: its tokens stop, its record and audit trail stay

    def has_manage_permission(self, request):
        return manages_integrations(request)

    def get_fields(self, request, obj=None):
        if obj is None:  # a new client: its company (staff: their own, not asked), name and scopes
            return ("company", "name", "scopes") if is_active_superuser(request) else ("name", "scopes")
        if not self.has_change_permission(request, obj):
            return ("client_id", "company", "name", "scopes_display", "is_active", "created_at", "last_used_at")
        return ("client_id", "company", "name", "scopes", "is_active", "created_at", "last_used_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        if not self.has_change_permission(request, obj):
            return self.get_fields(request, obj)
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            services.update_api_client(obj.pk, name=obj.name, scopes=obj.scopes)
            return
        company_id = obj.company_id if is_active_superuser(request) else company_scope(request)
        client, secret = services.create_api_client(company_id=company_id, name=obj.name, scopes=obj.scopes)
        obj.pk, obj.company_id, obj.created_at, obj._state.adding = client.pk, client.company_id, client.created_at, False
        request._issued_secrets = [(client, secret)]

    def response_add(self, request, obj, post_url_continue=None):
        return self._secrets_page(request, request._issued_secrets, "API client created")

    def _secrets_page(self, request, issued, title):
        return shown_once(self, request, title, secret_name="secret", rows=issued,
                          note="It is stored as a digest; a lost secret is replaced with the “Rotate the secret” "
                               "action. Get a token with it: POST /service/panel/authentication/v1.0/company/"
                               "<company_id>/oauth/token (HTTP Basic client_id:client_secret, "
                               "grant_type=client_credentials).",
                          cells=(("client_id", "client-id", lambda c, _: c.client_id),
                                 ("client_secret", "client-secret", lambda _, secret: secret),
                                 ("scopes", "scopes", lambda c, _: ", ".join(c.scopes))))

    @admin.action(description="Rotate the secret of selected clients (old secret and tokens end)",
                  permissions=["manage"])
    def rotate_secrets(self, request, queryset):
        issued = [services.rotate_api_client_secret(client.pk) for client in queryset[:100]]
        return self._secrets_page(request, issued, "New secrets")

    @admin.action(description="Revoke selected clients (their tokens stop at once)", permissions=["manage"])
    def revoke_clients(self, request, queryset):
        revoked = [services.revoke_api_client(client.pk) for client in queryset.filter(is_active=True)[:100]]
        self.message_user(request, f"Revoked {len(revoked)} API client(s); "
                                   f"{sum(n for _, n in revoked)} token(s) stopped working.", messages.SUCCESS)


@admin.register(OAuthToken)
class OAuthTokenAdmin(ReadOnlyAdminMixin, SuperuserOnlyMixin, admin.ModelAdmin):
    """Read-only (ReadOnlyAdminMixin's writes come first), for superusers only (SuperuserOnlyMixin's views)."""

    list_display = ("kind", "client", "scopes", "created_at", "expires_at", "revoked")
    list_select_related = ("client",)
    list_filter = ("kind", "revoked")
    fields = ("kind", "client", "scopes", "created_at", "expires_at", "revoked")  # never token_hash
    readonly_fields = fields
    ordering = ("-created_at",)
    show_full_result_count = False


@admin.register(StaffProfile)
class StaffProfileAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    list_display = ("user", "company", "role")
    list_filter = ("role",)
    list_select_related = ("user", "company")
    search_fields = ("user__username", "=company__id")
    raw_id_fields = ("user",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.set_staff_role(obj.user, obj.role)  # the permissions follow the role

