"""The storefront account operations (``ApplicationClient.user`` of SDK 3.4.2): thin views over
accounts.services. Calls before sign-in authenticate the application only (StorefrontApplicationAuthentication);
the signed-in ones also need the ``f.session`` cookie (StorefrontAuthentication). A sign-in sets that
cookie (HttpOnly, SameSite=Lax, Secure over HTTPS) for the platform config's session lifetime."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import limits, schema, serializers, services
from core.api.errors import ValidationFailed
from core.api.schema import answers
from core.api.views import OwnTransactions, validated
from sessions_app import store
from sessions_app.storefront import StorefrontApplicationAuthentication, StorefrontView
from users.presenters import customer_dict

PLATFORM = OpenApiParameter("platform", str, description="The application id (accepted, not needed).")


def visit_of(request) -> services.Visit:
    return services.Visit(request.user.application, limits.client_ip(request),
                          request.META.get("HTTP_USER_AGENT", "")[:512])


def answer(request, outcome: services.Outcome, *, with_user: bool = False) -> Response:
    body = dict(outcome.fields)
    signed = outcome.signed_in
    if signed is not None and (with_user or "user_exists" in body):
        body["user"] = customer_dict(signed.customer)
    response = Response(body)
    if signed is not None:
        response.set_cookie(store.COOKIE_NAME, signed.cookie, max_age=signed.max_age, httponly=True,
                            samesite="Lax", secure=request.is_secure())
    response["Cache-Control"] = "no-store"
    return response


class VisitorView(APIView):
    """Before sign-in: the application's credentials only."""

    authentication_classes = [StorefrontApplicationAuthentication]
    permission_classes = []


class RegisterView(VisitorView):
    @extend_schema(operation_id="registerWithForm", summary="Sign up (storefront)", parameters=[PLATFORM],
                   request=serializers.FormRegisterSerializer, responses=answers(schema.RegisterFormSuccess, 400, 403, 409, 429))
    def post(self, request):
        return answer(request, services.register(visit_of(request), validated(serializers.FormRegisterSerializer, request)))


class PasswordLoginView(OwnTransactions, VisitorView):
    @extend_schema(operation_id="loginWithEmailAndPassword", summary="Sign in with a password (storefront)",
                   request=serializers.PasswordLoginSerializer, responses=answers(schema.LoginSuccess, 400, 401, 403, 429))
    def post(self, request):
        data = validated(serializers.PasswordLoginSerializer, request)
        return answer(request, services.login_with_password(visit_of(request), data.get("username"),
                                                            data.get("password")), with_user=True)


class SendMobileOtpView(OwnTransactions, VisitorView):
    @extend_schema(operation_id="sendOTPOnMobile", summary="Send a one-time code by SMS (storefront)",
                   parameters=[PLATFORM], request=serializers.SendMobileOtpSerializer,
                   responses=answers(schema.SendOtpSuccess, 400, 403, 429))
    def post(self, request):
        data = validated(serializers.SendMobileOtpSerializer, request)
        contact = services.phone_contact(data.get("mobile"), data.get("country_code"))
        return answer(request, services.send_sign_in_code(visit_of(request), contact))


class LoginWithOtpView(SendMobileOtpView):
    @extend_schema(operation_id="loginWithOTP", summary="Sign in (or up) with a one-time code by SMS (storefront)",
                   parameters=[PLATFORM], request=serializers.SendMobileOtpSerializer,
                   responses=answers(schema.SendOtpSuccess, 400, 403, 429))
    def post(self, request):
        return super().post(request)


class VerifyMobileOtpView(OwnTransactions, VisitorView):
    @extend_schema(operation_id="verifyMobileOTP", summary="Check a code sent by SMS: sign in, or a register_token "
                   "(storefront)", parameters=[PLATFORM], request=serializers.VerifyMobileOtpSerializer,
                   responses=answers(schema.VerifyOtpSuccess, 400, 403, 429))
    def post(self, request):
        data = validated(serializers.VerifyMobileOtpSerializer, request)
        if not data.get("request_id"):
            raise ValidationFailed("request_id is required.")
        return answer(request, services.verify_sign_in_code(visit_of(request), code=data.get("otp"),
                                                            request_id=data["request_id"],
                                                            register_token=data.get("register_token")))


class SendEmailOtpView(OwnTransactions, VisitorView):
    @extend_schema(operation_id="sendOTPOnEmail", summary="Send a one-time code by email (storefront)",
                   parameters=[PLATFORM], request=serializers.SendEmailOtpSerializer,
                   responses=answers(schema.EmailOtpSuccess, 400, 403, 429))
    def post(self, request):
        data = validated(serializers.SendEmailOtpSerializer, request)
        outcome = services.send_sign_in_code(visit_of(request), services.email_contact(data.get("email")))
        return answer(request, services.Outcome({"success": True,
                                                 "resend_email_token": outcome.fields["request_id"]}))


class VerifyEmailOtpView(OwnTransactions, VisitorView):
    @extend_schema(operation_id="verifyEmailOTP", summary="Check a code sent by email: sign in, or a register_token "
                   "(storefront)", parameters=[PLATFORM], request=serializers.VerifyEmailOtpSerializer,
                   responses=answers(schema.VerifyOtpSuccess, 400, 403, 429))
    def post(self, request):
        data = validated(serializers.VerifyEmailOtpSerializer, request)
        return answer(request, services.verify_sign_in_code(
            visit_of(request), code=data.get("otp"), contact=services.email_contact(data.get("email")),
            register_token=data.get("register_token")))


class UserExistsView(VisitorView):
    @extend_schema(operation_id="userExists", summary="Whether an email or mobile number has an account (storefront)",
                   parameters=[OpenApiParameter("q", str, required=True, description="An email or mobile number.")],
                   responses=answers(schema.UserExistsDetails, 400, 429))
    def get(self, request):
        return Response({"user_exists": services.user_exists(visit_of(request), request.query_params.get("q"))})


class HasPasswordView(StorefrontView):
    @extend_schema(operation_id="hasPassword", summary="Whether the signed-in customer has a password (storefront)",
                   responses=answers(schema.HasPasswordSuccess, 401))
    def get(self, request):
        return Response({"result": int(services.has_password(request.user.customer))})


class UpdatePasswordView(StorefrontView):
    @extend_schema(operation_id="updatePassword", summary="Change the signed-in customer's password (storefront)",
                   request=serializers.UpdatePasswordSerializer, responses=answers(schema.VerifyEmailSuccess, 400, 401))
    def post(self, request):
        data = validated(serializers.UpdatePasswordSerializer, request)
        services.update_password(visit_of(request), request.user.customer, data.get("old_password"), data.get("new_password"))
        return Response({"message": "Password updated"})
