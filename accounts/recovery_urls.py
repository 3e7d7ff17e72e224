"""The forgotten-password operations (accounts/recovery_views.py), paths of the SDK 3.4.2 client's _relativeUrls."""

from django.urls import path

from accounts import recovery_views as views

AUTH = "authentication/v1.0/"

urlpatterns = [
    path(AUTH + "login/password/reset", views.SendResetEmailView.as_view(), name="storefront-reset-email"),
    path(AUTH + "login/password/mobile/reset", views.SendResetMobileView.as_view(), name="storefront-reset-mobile"),
    path(AUTH + "login/password/reset/token", views.CheckResetCodeView.as_view(), name="storefront-reset-token"),
    path(AUTH + "login/password/reset/forgot", views.ForgotPasswordView.as_view(), name="storefront-forgot-password"),
    path(AUTH + "login/password/forgot", views.ResetForgotPasswordView.as_view(),
         name="storefront-reset-forgot-password"),
    path(AUTH + "otp/forgot/email/send", views.SendForgotEmailOtpView.as_view(), name="storefront-forgot-email-send"),
    path(AUTH + "otp/forgot/mobile/send", views.SendForgotMobileOtpView.as_view(),
         name="storefront-forgot-mobile-send"),
    path(AUTH + "otp/forgot/email/verify", views.VerifyForgotEmailOtpView.as_view(),
         name="storefront-forgot-email-verify"),
    path(AUTH + "otp/forgot/mobile/verify", views.VerifyForgotMobileOtpView.as_view(),
         name="storefront-forgot-mobile-verify"),
]
