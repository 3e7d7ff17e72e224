"""The OAuth token endpoint (client credentials, refresh tokens), whoami, and the mixin that resolves the
application of platform URLs."""

import base64
import binascii

from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import FormParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.parsers import JSONParser
from core.api.schema import ErrorBody, answers, error_answer
from core.tenancy import services
from core.tenancy.schema import ApplicationScopedSchema, TokenResponse, WhoAmI
from core.tenancy.selectors import application_of_company


class ApplicationScopedMixin:
    # For views under /company/{company_id}/application/{application_id}/: resolves the application.
    schema = ApplicationScopedSchema()
    # (A comment, not a docstring: OpenAPI would show it as the description of every operation.)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication and scopes come first
        self.application = application_of_company(kwargs["company_id"], kwargs["application_id"])



def _basic_credentials(request) -> tuple[str, str] | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    if ":" not in decoded:
        return None
    client_id, secret = decoded.split(":", 1)
    return client_id, secret


@method_decorator(csrf_exempt, name="dispatch")
class TokenView(APIView):
    """OAuth 2.0 token endpoint: client_credentials and refresh_token grants (RFC 6749)."""

    authentication_classes = []
    permission_classes = []
    parser_classes = [FormParser, JSONParser]

    @extend_schema(
        summary="Get an access token",
        request=inline_serializer(
            "Token",  # the request component: TokenRequest
            {
                "grant_type": serializers.ChoiceField(choices=["client_credentials", "refresh_token"]),
                "refresh_token": serializers.CharField(required=False),
                "client_id": serializers.CharField(required=False),
                "client_secret": serializers.CharField(required=False),
            },
        ),
        responses={**answers(TokenResponse, 400),
                   401: error_answer(401, ErrorBody, "Client authentication failed (HTTP Basic client_id:secret).")},
        auth=[],
    )
    def post(self, request, company_id):
        data = request.data
        if not isinstance(data, dict):  # a JSON body may be a list, a string, a number or null
            raise services.OAuthError("The request body must be a form or a JSON object.", code="invalid_request")
        credentials = _basic_credentials(request) or (data.get("client_id"), data.get("client_secret"))
        if not all(isinstance(c, str) and c for c in credentials):
            raise services.OAuthError(
                "Client credentials are required: HTTP Basic base64(client_id:client_secret).",
                code="invalid_client", status_code=401,
            )
        client = services.authenticate_client(company_id=int(company_id), client_id=credentials[0],
                                              client_secret=credentials[1])
        grant_type = data.get("grant_type")
        if grant_type == "client_credentials":
            issued = services.issue_token(client)
        elif grant_type == "refresh_token":
            refresh = data.get("refresh_token")
            if not isinstance(refresh, str) or not refresh:
                raise services.OAuthError("refresh_token is required for this grant.", code="invalid_request")
            issued = services.refresh_access_token(client, refresh)
        else:
            raise services.OAuthError(
                "grant_type must be 'client_credentials' or 'refresh_token'.", code="unsupported_grant_type"
            )
        return Response(issued.as_response(), headers={"Cache-Control": "no-store"})


class WhoAmIView(APIView):
    """The caller as the service sees it. Also the framework's floor in `make bench`."""

    required_scopes = {"GET": None}

    @extend_schema(summary="Describe the calling API client", responses=answers(WhoAmI, 401, 403))
    def get(self, request, company_id):
        principal = request.user
        return Response({"client_id": principal.client_id, "company_id": str(principal.company_id),
                         "scopes": sorted(principal.scopes)})
