"""Admin console: each application's platform config, editable by its company's staff.

The document is edited as JSON (social app secrets shown masked; leaving the mask keeps the secret),
validated with the API's ``PlatformConfigSerializer`` and saved through
``platform_config.update_platform_config`` (which checks the rules across fields and records the event).
"""

import json

from django import forms
from django.contrib import admin

from core.tenancy.admin_forms import ServiceAdminForm, ServiceAdminMixin
from core.tenancy.models import Application
from core.tenancy.scoping import ALL_COMPANIES, CompanyScopedAdminMixin, company_scope
from sessions_app import platform_config
from sessions_app.models import PlatformConfig
from sessions_app.platform_document import READ_ONLY_KEYS, SECRET_MASK
from sessions_app.platform_serializers import PlatformConfigSerializer


class PlatformConfigForm(ServiceAdminForm):
    settings_json = forms.CharField(
        label="Config (JSON)", widget=forms.Textarea(attrs={"rows": 40, "cols": 100, "class": "vLargeTextField"}),
        help_text="The PlatformSchema document. Keys left out keep their value; nested objects are merged. "
                  f"An app_secret shown as {SECRET_MASK} keeps the stored secret.")

    class Meta:
        model = PlatformConfig
        fields = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            shown = platform_config.present(self.instance)
            for key in READ_ONLY_KEYS:
                shown.pop(key, None)
            self.fields["settings_json"].initial = json.dumps(shown, indent=2)

    def clean(self):
        cleaned = super().clean()
        raw = cleaned.get("settings_json")
        if raw is None:
            return cleaned
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}")
        serializer = PlatformConfigSerializer(data=data, partial=True)
        if not serializer.is_valid():
            raise forms.ValidationError(
                "; ".join(f"{path}: {' '.join(messages)}" for path, messages in serializer.errors.items()))
        cleaned["changes"] = serializer.validated_data
        return cleaned

    def write(self, actor):
        return platform_config.update_platform_config(self.instance.application, self.cleaned_data["changes"], actor)


@admin.register(PlatformConfig)
class PlatformConfigAdmin(ServiceAdminMixin, CompanyScopedAdminMixin, admin.ModelAdmin):
    company_field = "application__company"
    form = PlatformConfigForm
    list_display = ("application", "version", "updated_at")
    list_select_related = ("application",)
    search_fields = ("application__name", "application__id")
    readonly_fields = ("id", "application", "version", "created_at", "updated_at")
    fields = ("id", "application", "version", "created_at", "updated_at", "settings_json")

    def has_add_permission(self, request):
        return False  # one per application, created with the defaults (see changelist_view)

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        """Every application the user may see has a config row (with the defaults) before listing."""
        scope = company_scope(request)
        if scope is not None:
            applications = Application.objects.filter(platform_config__isnull=True)
            if scope != ALL_COMPANIES:
                applications = applications.filter(company_id=scope)
            for application in applications[:500]:
                platform_config.get_platform_config(application)
        return super().changelist_view(request, extra_context)
