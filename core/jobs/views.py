"""getUsersJobByJobId: one background job of the application, in the SDK's BulkActionModel shape."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.schema import object_id_param, platform_answers
from core.jobs.presenters import job_dict
from core.jobs.schema import BulkAction
from core.jobs.selectors import get_job
from core.tenancy.models import SCOPE_CUSTOMERS_READ
from core.tenancy.views import ApplicationScopedMixin


class JobView(ApplicationScopedMixin, APIView):
    required_scopes = {"GET": SCOPE_CUSTOMERS_READ}

    @extend_schema(operation_id="getUsersJobByJobId", summary="Get a background job (import, export, bulk update)",
                   parameters=[object_id_param("job_id", "The job's _id.")],
                   responses=platform_answers(BulkAction))
    def get(self, request, job_id, **kwargs):
        return Response(job_dict(get_job(self.application, job_id), request))
