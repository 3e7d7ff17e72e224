"""Platform config API: getPlatformConfig and updatePlatformConfig (seed 002, "Website Authentication")."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.actors import Actor
from core.api.views import validated
from core.tenancy.models import SCOPE_CUSTOMERS_READ, SCOPE_SETTINGS_WRITE
from core.api.schema import platform_answers
from core.tenancy.views import ApplicationScopedMixin
from sessions_app import platform_config
from sessions_app.platform_serializers import PlatformConfigSerializer
from sessions_app.schema import PlatformConfig


class PlatformConfigView(ApplicationScopedMixin, APIView):
    required_scopes = {"GET": SCOPE_CUSTOMERS_READ, "POST": SCOPE_SETTINGS_WRITE}

    @extend_schema(operation_id="getPlatformConfig", summary="Get the platform config of the application",
                   responses=platform_answers(PlatformConfig))
    def get(self, request, **kwargs):
        return Response(platform_config.present(platform_config.get_platform_config(self.application)))

    @extend_schema(operation_id="updatePlatformConfig",
                   summary="Update the platform config (merged into the stored one; company/settings/write)",
                   request=PlatformConfigSerializer, responses=platform_answers(PlatformConfig, 400))
    def post(self, request, **kwargs):
        changes = validated(PlatformConfigSerializer, request, partial=True)
        config = platform_config.update_platform_config(self.application, changes, Actor.from_request(request))
        return Response(platform_config.present(config))
