"""PUT …/user_attribute/bulk_update and …/bulk_update/per_user (seed 002): BulkOperation answers."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from attributes import bulk
from attributes.serializers import BulkUpdatePerUserSerializer, BulkUpdateSerializer
from core.actors import Actor
from core.api.views import validated
from core.api.schema import platform_answers
from core.tenancy.views import ApplicationScopedMixin
from attributes.schema import BulkOperation


class BulkUpdateView(ApplicationScopedMixin, APIView):
    @extend_schema(operation_id="bulkUpdateUserAttributes",
                   summary="The same attributes for many customers (users or user_file_url)",
                   request=BulkUpdateSerializer, responses=platform_answers(BulkOperation, 400))
    def put(self, request, **kwargs):
        payload = bulk.same_payload(self.application, validated(BulkUpdateSerializer, request))
        return Response(bulk.bulk_update(self.application, payload, Actor.from_request(request), request))


class BulkUpdatePerUserView(ApplicationScopedMixin, APIView):
    @extend_schema(operation_id="bulkUpdatePerUserAttributes",
                   summary="Different attributes per customer (user_detail_attributes)",
                   request=BulkUpdatePerUserSerializer, responses=platform_answers(BulkOperation, 400))
    def put(self, request, **kwargs):
        payload = bulk.per_user_payload(validated(BulkUpdatePerUserSerializer, request))
        return Response(bulk.bulk_update(self.application, payload, Actor.from_request(request), request))
