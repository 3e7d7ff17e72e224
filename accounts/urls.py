"""The storefront account operations under /service/application/user/: sign-up and sign-in here, the
others in their own modules (recovery: forgotten passwords; profile: contacts and details; account:
the storefront config, attributes and deletion)."""

from django.urls import include, path

from accounts import views

AUTH = "authentication/v1.0/"

urlpatterns = [
    path(AUTH + "register/form", views.RegisterView.as_view(), name="storefront-register"),
    path(AUTH + "login/password", views.PasswordLoginView.as_view(), name="storefront-login-password"),
    path(AUTH + "login/otp", views.LoginWithOtpView.as_view(), name="storefront-login-otp"),
    path(AUTH + "otp/mobile/send", views.SendMobileOtpView.as_view(), name="storefront-otp-mobile-send"),
    path(AUTH + "otp/mobile/verify", views.VerifyMobileOtpView.as_view(), name="storefront-otp-mobile-verify"),
    path(AUTH + "otp/email/send", views.SendEmailOtpView.as_view(), name="storefront-otp-email-send"),
    path(AUTH + "otp/email/verify", views.VerifyEmailOtpView.as_view(), name="storefront-otp-email-verify"),
    path(AUTH + "user-exists", views.UserExistsView.as_view(), name="storefront-user-exists"),
    path(AUTH + "has-password", views.HasPasswordView.as_view(), name="storefront-has-password"),
    path(AUTH + "password", views.UpdatePasswordView.as_view(), name="storefront-update-password"),
    path("", include("accounts.recovery_urls")),
    path("", include("accounts.profile_urls")),
    path("", include("accounts.account_urls")),
    path("", include("accounts.social.urls")),
]
