"""Admin console: background jobs, read-only, company-scoped, with their first errors and download links."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from core import files
from core.jobs.selectors import job_errors
from core.jobs.services import cancel_job
from core.tenancy.scoping import CompanyScopedAdminMixin, CompanyScopedRelatedFilter, ReadOnlyAdminMixin
from core.jobs.models import Job

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
    actions = ["cancel_jobs"]

    def has_cancel_permission(self, request):
        """Whoever sees a job (staff see their company's only) may stop it."""
        return self.has_view_permission(request)

    @admin.action(description="Cancel the selected pending or running jobs", permissions=["cancel"])
    def cancel_jobs(self, request, queryset):
        cancelled = sum(cancel_job(job) for job in queryset.filter(status__in=Job.ACTIVE))
        self.message_user(request, f"{cancelled} job(s) cancelled; finished jobs are left as they are.",
                          messages.SUCCESS)

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
        errors = list(job_errors(obj)[:ERRORS_SHOWN])
        if not errors:
            return "-"
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                                ((e.row_number or "", e.reference, e.message) for e in errors))
        return format_html("<table><tr><th>row</th><th>reference</th><th>error</th></tr>{}</table>", rows)

    def changelist_view(self, request, extra_context=None):
        tools = [(label, reverse(url_name)) for label, url_name, permission in _changelist_tools
                 if request.user.has_perm(permission)]
        return super().changelist_view(request, {**(extra_context or {}), "job_tools": tools})


_changelist_tools: list[tuple[str, str, str]] = []


def add_changelist_tool(label: str, url_name: str, permission: str) -> None:
    """A link on the Jobs page to a view of another app that starts jobs (e.g. users' "Import customers"),
    shown to staff with ``permission``. The other app calls this; this module never imports it."""
    _changelist_tools.append((label, url_name, permission))
