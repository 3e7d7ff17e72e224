"""Sign-in tokens over HTTP: the platform's issueSignInToken (our extension: no SDK method; an API client with
application/customers/write, or staff) and the storefront's loginWithToken (SDK 3.4.2 ``ApplicationClient.user``),
thin views over accounts.handoff."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import handoff, handoff_schema, schema
from accounts.handoff_serializers import SignInTokenOptionsSerializer, TokenLoginSerializer
from accounts.views import VisitorView, answer, visit_of
from core.actors import Actor
from core.api.schema import answers, object_id_param, platform_answers
from core.api.views import validated
from core.tenancy.models import SCOPE_CUSTOMERS_WRITE
from core.tenancy.views import ApplicationScopedMixin
from core.timefmt import iso

USER_ID = object_id_param("user_id", "The customer's _id.")


class SignInTokenView(ApplicationScopedMixin, APIView):
    required_scopes = {"POST": SCOPE_CUSTOMERS_WRITE}

    @extend_schema(
        operation_id="issueSignInToken",
        summary="Issue a single-use sign-in token for a customer (extension: not an SDK method)",
        description="An extension of this service, not in the Fynd SDK: a short-lived, single-use token that "
                    "signs the customer in on the storefront with loginWithToken (a magic link the merchant "
                    "sends, or a hand-off from an app). Bound to this application; lives SIGN_IN_TOKEN_SECONDS "
                    "(300) or `expires_in` (at most 3600) seconds. Blocked or archived customers: 409. "
                    "Audited as sign_in_token.issued on the customer's timeline.",
        parameters=[USER_ID], request=SignInTokenOptionsSerializer,
        responses=platform_answers(handoff_schema.SignInToken, 400, 409),
    )
    def post(self, request, user_id, **kwargs):
        data = validated(SignInTokenOptionsSerializer, request)
        issued = handoff.issue_sign_in_token(self.application, user_id, Actor.from_request(request),
                                             expires_in=data.get("expires_in"))
        return Response({"token": issued.token, "expires_in": issued.expires_in, "expires_at": iso(issued.expires_at)},
                        headers={"Cache-Control": "no-store"})


class TokenLoginView(VisitorView):
    @extend_schema(operation_id="loginWithToken", summary="Sign in with a platform-issued sign-in token (storefront)",
                   request=TokenLoginSerializer, responses=answers(schema.LoginSuccess, 400, 401, 403, 429))
    def post(self, request):
        data = validated(TokenLoginSerializer, request)
        return answer(request, handoff.login_with_token(visit_of(request), data.get("token")), with_user=True)
