"""Admin console: background jobs, read-only, company-scoped, with their first errors and download links.

A job's page follows the job live while it is pending or processing: ``core/static/core/job_progress.js``
polls ``<id>/progress/`` (a JSON view of the same company-scoped queryset as the page: another company's
job is a 404) about once a second and updates the status, the counters, the progress and the download
links in place, stopping once the job has finished."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.contrib.admin.utils import display_for_value, unquote
from django.http import Http404, JsonResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from core import files
from core.actors import Actor
from core.api.errors import ServiceError
from core.jobs.selectors import job_errors
from core.jobs.services import cancel_job
from core.tenancy.models import Application
from core.tenancy.scoping import CompanyScopedAdminMixin, CompanyScopedRelatedFilter, ReadOnlyAdminMixin, scope_queryset
from core.jobs.models import Job

ERRORS_SHOWN = 50
EMPTY = "-"  # the admin's empty value
POLL_INTERVAL_MS = 1000  # how often the job's page asks for the progress while the job is active


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
    change_form_template = "admin/core/job/change_form.html"

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
        links = download_links(obj)
        return format_html_join(" · ", '<a href="{}">{}</a>', links) if links else EMPTY

    @admin.display(description=f"errors (first {ERRORS_SHOWN})")
    def errors_preview(self, obj):
        errors = list(job_errors(obj)[:ERRORS_SHOWN])
        if not errors:
            return "-"
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                                ((e.row_number or "", e.reference, e.message) for e in errors))
        return format_html("<table><tr><th>row</th><th>reference</th><th>error</th></tr>{}</table>", rows)

    def get_urls(self):
        progress = self.admin_site.admin_view(self.progress_view)
        return [path("<path:object_id>/progress/", progress, name="core_job_progress"), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        live = {"progress_url": reverse(f"{self.admin_site.name}:core_job_progress", args=[object_id]),
                "poll_interval_ms": POLL_INTERVAL_MS, "active_statuses": Job.ACTIVE}
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **live})

    def progress_view(self, request, object_id):
        """The job's numbers as JSON for its page's live view; 404 for a job the user may not see (another
        company's, exactly as the change page)."""
        job = self.get_object(request, unquote(object_id))
        if job is None or not self.has_view_permission(request, job):
            raise Http404("No such job.")
        response = JsonResponse(progress_dict(job))
        response["Cache-Control"] = "no-store"
        return response

    def changelist_view(self, request, extra_context=None):
        tools = [(label, reverse(url_name)) for label, url_name, permission in _changelist_tools
                 if request.user.has_perm(permission)]
        return super().changelist_view(request, {**(extra_context or {}), "job_tools": tools})


def download_links(job: Job) -> list[tuple[str, str]]:
    """(signed path, label) of the job's result and error files, those that exist yet. Relative links: the
    browser is already on this host, whatever PUBLIC_BASE_URL says."""
    return [(files.signed_path(name), label) for label, name in
            (("result file", job.result_file), ("error file", job.error_file)) if name]


def progress_dict(job: Job) -> dict:
    """What the job's page shows live (core/static/core/job_progress.js)."""
    errors = list(job_errors(job)[:ERRORS_SHOWN]) if job.error_count else []
    return {
        "id": job.pk,
        "status": job.status,
        "status_display": job.get_status_display(),
        "finished": job.status not in Job.ACTIVE,
        "total": job.total,
        "processed": job.processed,
        "progress": job.progress,
        "success_count": job.success_count,
        "error_count": job.error_count,
        "error": job.error,
        "downloads": [{"url": url, "label": label} for url, label in download_links(job)],
        "errors": [{"row": e.row_number or "", "reference": e.reference, "message": e.message} for e in errors],
        # as the page shows them (the admin's format and time zone)
        "times": {name: display_for_value(getattr(job, name), EMPTY) for name in
                  ("started_at", "finished_at", "heartbeat_at", "updated_at")},
    }


_changelist_tools: list[tuple[str, str, str]] = []


def add_changelist_tool(label: str, url_name: str, permission: str) -> None:
    """A link on the Jobs page to a view of another app that starts jobs (e.g. users' "Import customers"),
    shown to staff with ``permission``. The other app calls this; this module never imports it."""
    _changelist_tools.append((label, url_name, permission))


def job_form_view(model_admin, request, *, permission: str, form_class, title: str, template: str, started,
                  extra_context=None):
    """A console page that starts a job (an import, an export, a bulk update): the form offers the
    applications of the staff's company only (``form_class(data, files, applications=…)``); a valid POST
    calls ``form.save(actor)`` — the function the API uses — and opens the job's page with the message
    ``started(job)``; a service's refusal (ServiceError) shows on the form."""
    if not request.user.has_perm(permission):
        raise PermissionDenied
    applications = scope_queryset(Application.objects.order_by("name"), "company", request)
    form = form_class(request.POST or None, request.FILES or None, applications=applications)
    if request.method == "POST" and form.is_valid():
        try:
            job = form.save(Actor.from_request(request))
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            model_admin.message_user(request, started(job), messages.SUCCESS)
            return redirect(reverse(f"{model_admin.admin_site.name}:core_job_change", args=[job.pk]))
    context = {**model_admin.admin_site.each_context(request), "opts": model_admin.model._meta, "form": form,
               "title": title, **(extra_context or {})}
    return TemplateResponse(request, template, context)
