"""bulkImportStoreFrontUsers / getBulkImportUsersList (``…/users/jobs/import``) and createBulkExportUsers /
getBulkExportUsersList (``…/users/jobs/export``). Each job is the SDK's BulkActionModel (core.jobs.presenters);
``GET …/users/jobs/{job_id}`` (core.jobs.views) answers any one of them."""

from datetime import datetime, time, timedelta
from datetime import timezone as dt_timezone

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.actors import Actor
from core.api.errors import ValidationFailed
from core.jobs.presenters import BulkActionOut, job_dict
from core.jobs.models import Job
from core.api.pagination import PageRequest, page_info
from core.api.views import PAGE_PARAMS
from core.tenancy.views import ApplicationScopedMixin
from users.transfers import exports, imports

STATUSES = [s for s, _ in Job.STATUSES]
LIST_PARAMS = [
    *PAGE_PARAMS,
    OpenApiParameter("search", str, description="Part of the file name (case-insensitive)."),
    OpenApiParameter("start_date", str, description="Jobs created on or after this date (YYYY-MM-DD) or instant "
                                                    "(ISO 8601)."),
    OpenApiParameter("end_date", str, description="Jobs created on or before this date (the whole day) or instant."),
    OpenApiParameter("status", str, description=f"One of {', '.join(STATUSES)} (several: comma-separated)."),
    OpenApiParameter("file_format", str, enum=["csv", "xlsx"]),
]
PAGE_OUT = inline_serializer("BulkActionPagination", {
    "items": BulkActionOut(many=True),
    "page": inline_serializer("BulkActionPage", {"type": serializers.CharField(), "current": serializers.IntegerField(),
                                                 "size": serializers.IntegerField(),
                                                 "item_total": serializers.IntegerField(),
                                                 "has_next": serializers.BooleanField()}),
})


def _instant(raw: str, name: str, end: bool) -> datetime:
    text = raw.strip()
    try:
        if len(text) == 10:
            day = datetime.combine(datetime.strptime(text, "%Y-%m-%d").date(), time(), tzinfo=dt_timezone.utc)
            return day + timedelta(days=1) if end else day
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(f"{name} must be a date (YYYY-MM-DD) or an ISO 8601 instant, got {text[:40]!r}.")
    return value if value.tzinfo else value.replace(tzinfo=dt_timezone.utc)


def list_jobs(application, kind: str, params):
    """(jobs of one page, item_total) of this application's jobs of ``kind``, newest first, filtered."""
    queryset = Job.objects.filter(application=application, kind=kind)
    search = (params.get("search") or "").strip()
    if search:
        queryset = queryset.filter(file_name__icontains=search[:200])
    if params.get("start_date"):
        queryset = queryset.filter(created_at__gte=_instant(params["start_date"], "start_date", end=False))
    if params.get("end_date"):
        end = params["end_date"]
        bound = _instant(end, "end_date", end=True)
        queryset = queryset.filter(created_at__lt=bound) if len(end.strip()) == 10 else \
            queryset.filter(created_at__lte=bound)
    if params.get("status"):
        wanted = [s.strip().lower() for s in params["status"].split(",") if s.strip()]
        unknown = [s for s in wanted if s not in STATUSES]
        if unknown:
            raise ValidationFailed(f"status must be one of {', '.join(STATUSES)}; got {', '.join(unknown)[:80]}.")
        queryset = queryset.filter(status__in=wanted)
    if params.get("file_format"):
        queryset = queryset.filter(file_format=imports.check_format(params["file_format"]))
    page = PageRequest.from_query(params)
    total = queryset.count()
    return list(queryset.order_by("-created_at", "-id")[page.offset:page.offset + page.size]), page, total


class _JobsView(ApplicationScopedMixin, APIView):
    kind = ""

    def _list(self, request):
        found, page, total = list_jobs(self.application, self.kind, request.query_params)
        return Response({"items": [job_dict(job, request) for job in found], "page": page_info(page, total)})


class ImportJobsView(_JobsView):
    kind = imports.KIND

    @extend_schema(operation_id="getBulkImportUsersList", summary="List customer import jobs (newest first)",
                   parameters=LIST_PARAMS, responses=PAGE_OUT)
    def get(self, request, **kwargs):
        return self._list(request)

    @extend_schema(
        operation_id="bulkImportStoreFrontUsers", summary="Import customers from a CSV or XLSX file (a job)",
        request=inline_serializer("CreateStoreFrontUsersPayload", {
            "absolute_url": serializers.CharField(help_text="http(s) URL of the file (fetched by the guarded "
                                                            "downloader), or a /files/ link of this service."),
            "relative_url": serializers.CharField(required=False, help_text="Its name; the job's file_name."),
            "file_format": serializers.ChoiceField(choices=["csv", "xlsx"]),
        }),
        responses=BulkActionOut)
    def post(self, request, **kwargs):
        body = request.data if isinstance(request.data, dict) else None
        if body is None:
            raise ValidationFailed("The request body must be a JSON object.")
        job = imports.start_import(self.application, Actor.from_request(request), absolute_url=body.get("absolute_url"),
                                   relative_url=body.get("relative_url") or "", file_format=body.get("file_format"))
        return Response(job_dict(job, request))


class ExportJobsView(_JobsView):
    kind = exports.KIND

    @extend_schema(operation_id="getBulkExportUsersList", summary="List customer export jobs (newest first)",
                   parameters=LIST_PARAMS, responses=PAGE_OUT)
    def get(self, request, **kwargs):
        return self._list(request)

    @extend_schema(operation_id="createBulkExportUsers", summary="Export every live customer to CSV or XLSX (a job)",
                   request=inline_serializer("BulkUserExportSchema", {
                       "file_format": serializers.ChoiceField(choices=["csv", "xlsx"])}),
                   responses=BulkActionOut)
    def post(self, request, **kwargs):
        body = request.data if isinstance(request.data, dict) else None
        if body is None:
            raise ValidationFailed("The request body must be a JSON object.")
        job = exports.start_export(self.application, Actor.from_request(request), file_format=body.get("file_format"))
        return Response(job_dict(job, request))

