"""Admin console: tenancy and API access.

Applications and API clients are created with ``manage.py create_application`` /
``create_api_client`` (their token / secret is shown once there); the admin never shows a hash.
Company staff may view their own company, its applications and API clients; only superusers change them.
"""

from django import forms
from django.contrib import admin

from core.tenancy.scoping import (
    CompanyScopedAdminMixin,
    CompanyScopedRelatedFilter,
    ReadOnlyAdminMixin,
    SuperuserWritesMixin,
    is_active_superuser,
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

    def has_add_permission(self, request):
        return False  # manage.py create_application issues the storefront token

    def has_delete_permission(self, request, obj=None):
        return False  # would delete every customer of the sales channel


class ApiClientForm(forms.ModelForm):
    scopes = forms.TypedMultipleChoiceField(choices=[(s, s) for s in ALL_SCOPES],
                                            widget=forms.CheckboxSelectMultiple, required=False)

    class Meta:
        model = ApiClient
        fields = ("name", "scopes", "is_active")


@admin.register(ApiClient)
class ApiClientAdmin(SuperuserWritesMixin, CompanyScopedAdminMixin, admin.ModelAdmin):
    company_field = "company"
    staff_can_view = True
    form = ApiClientForm
    list_display = ("name", "client_id", "company", "scopes_display", "is_active", "last_used_at")
    list_select_related = ("company",)
    list_filter = ("is_active", ("company", CompanyScopedRelatedFilter))
    search_fields = ("=client_id", "name")
    fields = ("client_id", "company", "name", "scopes", "is_active", "created_at", "last_used_at")  # never secret_hash
    readonly_fields = ("client_id", "company", "created_at", "last_used_at")
    ordering = ("company_id", "name")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description="scopes")
    def scopes_display(self, obj):
        return ", ".join(obj.scopes)

    def get_readonly_fields(self, request, obj=None):
        if not self.has_change_permission(request, obj):
            # The view-only page renders the raw list; show it readably.
            return ("client_id", "company", "name", "scopes_display", "is_active", "created_at", "last_used_at")
        return self.readonly_fields

    def get_fields(self, request, obj=None):
        if not self.has_change_permission(request, obj):
            return self.get_readonly_fields(request, obj)
        return self.fields

    def has_add_permission(self, request):
        return False  # manage.py create_api_client shows the secret once


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

