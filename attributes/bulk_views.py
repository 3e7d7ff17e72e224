"""PUT …/user_attribute/bulk_update and …/bulk_update/per_user (seed 002): BulkOperation answers."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from attributes import bulk
from core.actors import Actor
from core.tenancy.views import ApplicationScopedMixin


class BulkUpdateView(ApplicationScopedMixin, APIView):
    @extend_schema(operation_id="bulkUpdateUserAttributes",
                   summary="The same attributes for many customers (users or user_file_url)",
                   request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def put(self, request, **kwargs):
        payload = bulk.parse_same(self.application, request.data)
        return Response(bulk.bulk_update(self.application, payload, Actor.from_request(request), request))


class BulkUpdatePerUserView(ApplicationScopedMixin, APIView):
    @extend_schema(operation_id="bulkUpdatePerUserAttributes",
                   summary="Different attributes per customer (user_detail_attributes)",
                   request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def put(self, request, **kwargs):
        payload = bulk.parse_per_user(request.data)
        return Response(bulk.bulk_update(self.application, payload, Actor.from_request(request), request))
