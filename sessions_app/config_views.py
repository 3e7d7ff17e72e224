"""Platform config API: getPlatformConfig and updatePlatformConfig (seed 002, "Website Authentication")."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.actors import Actor
from core.api.errors import ValidationFailed
from core.tenancy.models import SCOPE_CUSTOMERS_READ, SCOPE_SETTINGS_WRITE
from core.tenancy.views import ApplicationScopedMixin
from sessions_app import platform_config


class PlatformConfigView(ApplicationScopedMixin, APIView):
    required_scopes = {"GET": SCOPE_CUSTOMERS_READ, "POST": SCOPE_SETTINGS_WRITE}

    @extend_schema(operation_id="getPlatformConfig", summary="Get the platform config of the application",
                   responses=OpenApiTypes.OBJECT)
    def get(self, request, **kwargs):
        return Response(platform_config.present(platform_config.get_platform_config(self.application)))

    @extend_schema(operation_id="updatePlatformConfig",
                   summary="Update the platform config (merged into the stored one; company/settings/write)",
                   request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def post(self, request, **kwargs):
        if not isinstance(request.data, dict):
            raise ValidationFailed("The request body must be a JSON object.")
        config = platform_config.update_platform_config(self.application, request.data, Actor.from_request(request))
        return Response(platform_config.present(config))
