"""Admin console: background jobs, read-only, company-scoped, with their first errors and download links."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from core import files, jobs
from core.admin_scoping import CompanyScopedAdminMixin, CompanyScopedRelatedFilter, ReadOnlyAdminMixin, scope_queryset
from core.models import Application, Job

ERRORS_SHOWN = 50


@admin.register(Job)
class JobAdmin(ReadOnlyAdminMixin, CompanyScopedAdminMixin, admin.ModelAdmin):
    company_field = "company"
    staff_can_view = True
    list_display = ("id", "kind", "status", "progress_display", "total", "success_count", "error_count",
                    "file_name", "downloads", "created_by_display", "application", "created_at", "finished_at")
    list_select_related = ("application",)
    list_filter = ("kind", "status", ("application", CompanyScopedRelatedFilter), "created_at")
    search_fields = ("=id",)
    search_help_text = "A job id."
    ordering = ("-created_at",)
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    fields = ("id", "application", "kind", "status", "error", "progress_display", "total", "processed",
              "success_count", "error_count", "file_name", "file_format", "payload", "created_by_display",
              "downloads", "errors_preview", "attempts", "checkpoint", "heartbeat_at", "created_at", "started_at",
              "finished_at", "updated_at")
    readonly_fields = fields

    @admin.display(description="progress")
    def progress_display(self, obj):
        return f"{obj.progress} %"

    @admin.display(description="created by")
    def created_by_display(self, obj):
        created_by = obj.created_by or {}
        return f"{created_by.get('name') or created_by.get('id') or '-'} ({created_by.get('type', '?')})"

    @admin.display(description="files")
    def downloads(self, obj):
        # Relative links: the browser is already on this host, whatever PUBLIC_BASE_URL says.
        links = [(files.signed_path(name), label) for label, name in
                 (("result file", obj.result_file), ("error file", obj.error_file)) if name]
        return format_html_join(" · ", '<a href="{}">{}</a>', links) if links else "-"

    @admin.display(description=f"errors (first {ERRORS_SHOWN})")
    def errors_preview(self, obj):
        errors = list(jobs.job_errors(obj)[:ERRORS_SHOWN])
        if not errors:
            return "-"
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                                ((e.row_number or "", e.reference, e.message) for e in errors))
        return format_html("<table><tr><th>row</th><th>reference</th><th>error</th></tr>{}</table>", rows)


    # --- customer import (users.transfers): an upload form that starts the job

    def can_import_customers(self, request) -> bool:
        return request.user.has_perm("users.add_customer")

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_import_customers": self.can_import_customers(request)}
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_customers_view)
        return [path("import-customers/", view, name="core_job_import_customers"), *super().get_urls()]

    def import_customers_view(self, request):
        from core.actors import Actor
        from core.errors import ServiceError
        from users.transfers import imports

        if not self.can_import_customers(request):
            raise PermissionDenied
        applications = scope_queryset(Application.objects.order_by("name"), "company", request)
        form = ImportCustomersForm(request.POST or None, request.FILES or None, applications=applications)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = imports.start_import_of_file(form.cleaned_data["application"], Actor.from_request(request),
                                                   upload, upload.name, form.cleaned_data["file_format"] or None)
            except ServiceError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, f"Import of {upload.name} started: job {job.pk}.", messages.SUCCESS)
                return redirect(reverse(f"{self.admin_site.name}:core_job_change", args=[job.pk]))
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "title": "Import customers"}
        return TemplateResponse(request, "admin/core/job/import_customers.html", context)


class ImportCustomersForm(forms.Form):
    application = forms.ModelChoiceField(queryset=Application.objects.none())
    file = forms.FileField(help_text="CSV (UTF-8) or XLSX (the first worksheet is read).")
    file_format = forms.ChoiceField(choices=[("", "from the file name"), ("csv", "CSV"), ("xlsx", "XLSX")],
                                    required=False)

    def __init__(self, *args, applications, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["application"].queryset = applications
