"""The forgotten-password operations of the storefront (SDK 3.4.2 ``ApplicationClient.user``): thin views over
accounts.recovery, before sign-in (the application's credentials only). forgotPassword signs the customer in
and sets the ``f.session`` cookie."""

from drf_spectacular.utils import extend_schema

from accounts import recovery, recovery_schema, schema, services
from accounts import recovery_serializers as bodies
from accounts.views import PLATFORM, VisitorView, answer, visit_of
from core.api.errors import ValidationFailed
from core.api.schema import answers
from core.api.views import validated


class SendResetEmailView(VisitorView):
    @extend_schema(operation_id="sendResetPasswordEmail", summary="Send a password reset link by email (storefront)",
                   parameters=[PLATFORM], request=bodies.SendResetEmailSerializer,
                   responses=answers(recovery_schema.ResetPasswordSuccess, 400, 403, 429))
    def post(self, request):
        data = validated(bodies.SendResetEmailSerializer, request)
        return answer(request, recovery.send_reset_link(visit_of(request), services.email_contact(data.get("email"))))


class SendResetMobileView(VisitorView):
    @extend_schema(operation_id="sendResetPasswordMobile", summary="Send a password reset link by SMS (storefront)",
                   parameters=[PLATFORM], request=bodies.SendResetMobileSerializer,
                   responses=answers(recovery_schema.ResetPasswordSuccess, 400, 403, 429))
    def post(self, request):
        data = validated(bodies.SendResetMobileSerializer, request)
        contact = services.phone_contact(data.get("mobile"), data.get("country_code"))
        return answer(request, recovery.send_reset_link(visit_of(request), contact))


class CheckResetCodeView(VisitorView):
    @extend_schema(operation_id="sendResetToken", summary="Check a password reset link's code (storefront)",
                   request=bodies.ResetCodeSerializer,
                   responses=answers(recovery_schema.ResetPasswordSuccess, 400, 403, 429))
    def post(self, request):
        data = validated(bodies.ResetCodeSerializer, request)
        return answer(request, recovery.check_reset_code(visit_of(request), data.get("code")))


class ForgotPasswordView(VisitorView):
    @extend_schema(operation_id="forgotPassword", summary="Set a new password with a reset code and sign in "
                   "(storefront)", request=bodies.ForgotPasswordSerializer,
                   responses=answers(schema.LoginSuccess, 400, 403, 429))
    def post(self, request):
        data = validated(bodies.ForgotPasswordSerializer, request)
        return answer(request, recovery.forgot_password(visit_of(request), data.get("code"), data.get("password")),
                      with_user=True)


class ResetForgotPasswordView(VisitorView):
    @extend_schema(operation_id="resetForgotPassword", summary="Set a new password with a forgot_token or an "
                   "expired password's code (storefront)", request=bodies.ForgotPasswordSerializer,
                   responses=answers(recovery_schema.ResetForgotPasswordSuccess, 400, 403, 429))
    def post(self, request):
        data = validated(bodies.ForgotPasswordSerializer, request)
        return answer(request, recovery.reset_forgot_password(visit_of(request), data.get("code"),
                                                              data.get("password")))


class SendForgotEmailOtpView(VisitorView):
    @extend_schema(operation_id="sendForgotOTPOnEmail", summary="Send a code by email to reset a forgotten "
                   "password (storefront)", parameters=[PLATFORM], request=bodies.SendForgotEmailOtpSerializer,
                   responses=answers(schema.EmailOtpSuccess, 400, 403, 429))
    def post(self, request):
        data = validated(bodies.SendForgotEmailOtpSerializer, request)
        return answer(request, recovery.send_forgot_code(visit_of(request), services.email_contact(data.get("email"))))


class SendForgotMobileOtpView(VisitorView):
    @extend_schema(operation_id="sendForgotOTPOnMobile", summary="Send a code by SMS to reset a forgotten "
                   "password (storefront)", parameters=[PLATFORM], request=bodies.SendForgotMobileOtpSerializer,
                   responses=answers(schema.SendOtpSuccess, 400, 403, 429))
    def post(self, request):
        data = validated(bodies.SendForgotMobileOtpSerializer, request)
        contact = services.phone_contact(data.get("mobile"), data.get("country_code"))
        return answer(request, recovery.send_forgot_code(visit_of(request), contact))


class VerifyForgotEmailOtpView(VisitorView):
    @extend_schema(operation_id="verifyEmailForgotOTP", summary="Exchange a code sent by email for a forgot_token "
                   "(storefront)", parameters=[PLATFORM], request=bodies.VerifyForgotEmailOtpSerializer,
                   responses=answers(recovery_schema.VerifyForgotOtpSuccess, 400, 403, 429))
    def post(self, request):
        data = validated(bodies.VerifyForgotEmailOtpSerializer, request)
        return answer(request, recovery.verify_forgot_code(visit_of(request), code=data.get("otp"),
                                                           contact=services.email_contact(data.get("email"))))


class VerifyForgotMobileOtpView(VisitorView):
    @extend_schema(operation_id="verifyMobileForgotOTP", summary="Exchange a code sent by SMS for a forgot_token "
                   "(storefront)", parameters=[PLATFORM], request=bodies.VerifyForgotMobileOtpSerializer,
                   responses=answers(recovery_schema.VerifyForgotOtpSuccess, 400, 403, 429))
    def post(self, request):
        data = validated(bodies.VerifyForgotMobileOtpSerializer, request)
        if not data.get("request_id"):
            raise ValidationFailed("request_id is required.")
        return answer(request, recovery.verify_forgot_code(visit_of(request), code=data.get("otp"),
                                                           request_id=data["request_id"]))
