"""Customer sessions, platform side: createUserSession, deleteSession, getActiveSessions,
deleteActiveSessions. Reads need customers/read, writes customers/write (the default scopes)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.actors import Actor
from core.api import proxy
from core.api.errors import ValidationFailed
from core.api.fields import StrictCharField
from core.api.schema import platform_answers
from core.tenancy.views import ApplicationScopedMixin
from sessions_app import selectors, services
from sessions_app.schema import CreatedSession, SessionDeleted, SessionList, SessionsDeleted


class CreateSessionSerializer(serializers.Serializer):
    user_id = StrictCharField(max_length=24)
    domain = StrictCharField(allow_blank=True, max_length=253)
    max_age = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                       max_value=services.MAX_SESSION_SECONDS)
    ip = StrictCharField(required=False, allow_blank=True, max_length=64)
    user_agent = StrictCharField(required=False, allow_blank=True, max_length=512)

    def validate_max_age(self, value):
        raw = self.initial_data.get("max_age") if isinstance(self.initial_data, dict) else None
        if raw is not None and (isinstance(raw, bool) or not isinstance(raw, (int, float))):
            raise serializers.ValidationError("Must be a number of seconds.")
        return value


def _query(request, name: str) -> str:
    value = request.query_params.get(name)
    if value is None or value == "":
        raise ValidationFailed(f"{name} is required.", meta={"errors": {name: ["This field is required."]}})
    return value


ID_PARAM = OpenApiParameter("id", OpenApiTypes.STR, required=True, description="ID of a customer.")
REASON_PARAM = OpenApiParameter("reason", OpenApiTypes.STR, required=True, description="Why (audit trail).")


class SessionView(ApplicationScopedMixin, APIView):
    @extend_schema(
        operation_id="createUserSession", summary="Create a session for a customer",
        request=CreateSessionSerializer,
        responses=platform_answers(CreatedSession, 400, 409),
    )
    def post(self, request, **kwargs):
        serializer = CreateSessionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        session, cookie = services.create_session(
            self.application, data["user_id"], max_age=data.get("max_age"), domain=data["domain"],
            ip=data.get("ip") or proxy.client_ip(request),
            user_agent=data.get("user_agent") or request.META.get("HTTP_USER_AGENT", ""),
            actor=Actor.from_request(request),
        )
        return Response({"domain": session.domain, "max_age": session.max_age, "secure": True, "http_only": True,
                         "cookie": {"f.session": cookie}})

    @extend_schema(
        operation_id="deleteSession", summary="End one session of a customer",
        parameters=[ID_PARAM, OpenApiParameter("session_id", OpenApiTypes.STR, required=True), REASON_PARAM],
        responses=platform_answers(SessionDeleted, 400),
    )
    def delete(self, request, **kwargs):
        customer_id = _query(request, "id")
        session_id = services.end_session(self.application, customer_id, _query(request, "session_id"),
                                          _query(request, "reason"), Actor.from_request(request))
        return Response({"user_id": customer_id, "session_id": session_id})


class SessionsView(ApplicationScopedMixin, APIView):
    @extend_schema(
        operation_id="getActiveSessions", summary="List the live sessions of a customer", parameters=[ID_PARAM],
        responses=platform_answers(SessionList, 400),
    )
    def get(self, request, **kwargs):
        sessions = selectors.live_sessions(self.application, _query(request, "id"))
        return Response({"items": [selectors.session_dict(s) for s in sessions]})

    @extend_schema(
        operation_id="deleteActiveSessions", summary="End every session of a customer",
        parameters=[ID_PARAM, REASON_PARAM],
        responses=platform_answers(SessionsDeleted, 400),
    )
    def delete(self, request, **kwargs):
        customer_id = _query(request, "id")
        session_ids = services.end_all_sessions(self.application, customer_id, _query(request, "reason"),
                                                Actor.from_request(request))
        return Response({"user_id": customer_id, "session_ids": session_ids})
