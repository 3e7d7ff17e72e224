"""The signed-in customer's contacts (profile/v1.0, profile/v2.0) and the verification links they get
(authentication/v1.0/verify/*): accounts/profile_views.py."""

from django.urls import path

from accounts import profile_views as views

V1 = "profile/v1.0/"
V2 = "profile/v2.0/<str:entity>/"

urlpatterns = [
    path(V1 + "email", views.EmailView.as_view(), name="storefront-email"),
    path(V1 + "email/primary", views.PrimaryEmailView.as_view(), name="storefront-email-primary"),
    path(V1 + "email/link/send", views.EmailLinkView.as_view(), name="storefront-email-link"),
    path(V1 + "mobile", views.MobileView.as_view(), name="storefront-mobile"),
    path(V1 + "mobile/primary", views.PrimaryMobileView.as_view(), name="storefront-mobile-primary"),
    path(V1 + "mobile/link/send", views.MobileLinkView.as_view(), name="storefront-mobile-link"),
    path("authentication/v1.0/verify/email", views.VerifyEmailLinkView.as_view(), name="storefront-verify-email"),
    path("authentication/v1.0/verify/mobile", views.VerifyMobileLinkView.as_view(), name="storefront-verify-mobile"),
    path(V2 + "primary/otp/send", views.PrimaryOtpSendView.as_view(), name="storefront-primary-otp-send"),
    path(V2 + "primary/otp/verify", views.PrimaryOtpVerifyView.as_view(), name="storefront-primary-otp-verify"),
    path(V2 + "otp/send", views.UpdateOtpSendView.as_view(), name="storefront-update-otp-send"),
    path(V2 + "otp/verify", views.UpdateOtpVerifyView.as_view(), name="storefront-update-otp-verify"),
]
