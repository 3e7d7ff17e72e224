"""getUsersJobByJobId: one background job of the application, in the SDK's BulkActionModel shape."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.jobs.selectors import get_job
from core.jobs.presenters import BulkActionOut, job_dict
from core.tenancy.models import SCOPE_CUSTOMERS_READ
from core.tenancy.views import ApplicationScopedMixin


class JobView(ApplicationScopedMixin, APIView):
    required_scopes = {"GET": SCOPE_CUSTOMERS_READ}

    @extend_schema(operation_id="getUsersJobByJobId", summary="Get a background job (import, export, bulk update)",
                   responses=BulkActionOut)
    def get(self, request, job_id, **kwargs):
        return Response(job_dict(get_job(self.application, job_id), request))
