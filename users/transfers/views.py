"""bulkImportStoreFrontUsers / getBulkImportUsersList (``…/users/jobs/import``) and createBulkExportUsers /
getBulkExportUsersList (``…/users/jobs/export``). Each job is the SDK's BulkActionModel (core.jobs.presenters);
``GET …/users/jobs/{job_id}`` (core.jobs.views) answers any one of them."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.actors import Actor
from core.api.pagination import page_info
from core.api.schema import PAGE_PARAMS, platform_answers
from core.api.views import validated
from core.jobs.filters import STATUSES
from core.jobs.presenters import job_dict
from core.jobs.schema import BulkAction, BulkActionPage
from core.tenancy.views import ApplicationScopedMixin
from users.transfers import exports, imports
from users.transfers.formats import FORMATS
from users.transfers.selectors import list_jobs
from users.transfers.serializers import ExportRequestSerializer, ImportRequestSerializer

LIST_PARAMS = [
    *PAGE_PARAMS,
    OpenApiParameter("search", str, description="Part of the file name (case-insensitive)."),
    OpenApiParameter("start_date", str, description="Jobs created on or after this date (YYYY-MM-DD) or instant "
                                                    "(ISO 8601)."),
    OpenApiParameter("end_date", str, description="Jobs created on or before this date (the whole day) or instant."),
    OpenApiParameter("status", str, description=f"One of {', '.join(STATUSES)} (several: comma-separated)."),
    OpenApiParameter("file_format", str, enum=list(FORMATS)),
]


class _JobsView(ApplicationScopedMixin, APIView):
    kind = ""

    def _list(self, request):
        found, page, total = list_jobs(self.application, self.kind, request.query_params)
        return Response({"items": [job_dict(job, request) for job in found], "page": page_info(page, total)})


class ImportJobsView(_JobsView):
    kind = imports.KIND

    @extend_schema(operation_id="getBulkImportUsersList", summary="List customer import jobs (newest first)",
                   parameters=LIST_PARAMS, responses=platform_answers(BulkActionPage, 400))
    def get(self, request, **kwargs):
        return self._list(request)

    @extend_schema(
        operation_id="bulkImportStoreFrontUsers", summary="Import customers from a CSV or XLSX file (a job)",
        request=ImportRequestSerializer,
        responses=platform_answers(BulkAction, 400))
    def post(self, request, **kwargs):
        body = validated(ImportRequestSerializer, request)
        job = imports.start_import(self.application, Actor.from_request(request), absolute_url=body.get("absolute_url"),
                                   relative_url=body.get("relative_url") or "", file_format=body.get("file_format"))
        return Response(job_dict(job, request))


class ExportJobsView(_JobsView):
    kind = exports.KIND

    @extend_schema(operation_id="getBulkExportUsersList", summary="List customer export jobs (newest first)",
                   parameters=LIST_PARAMS, responses=platform_answers(BulkActionPage, 400))
    def get(self, request, **kwargs):
        return self._list(request)

    @extend_schema(operation_id="createBulkExportUsers", summary="Export every live customer to CSV or XLSX (a job)",
                   request=ExportRequestSerializer,
                   responses=platform_answers(BulkAction, 400))
    def post(self, request, **kwargs):
        body = validated(ExportRequestSerializer, request)
        job = exports.start_export(self.application, Actor.from_request(request), file_format=body.get("file_format"))
        return Response(job_dict(job, request))

