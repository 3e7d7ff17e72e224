"""The sign-in token routes, included once from config/urls.py at the root: the platform operation that
issues a token (beside the other customer operations) and the storefront's loginWithToken."""

from django.urls import path

from accounts import handoff_views

PLATFORM = "service/platform/user/v1.0/company/<int:company_id>/application/<str:application_id>/"
STOREFRONT = "service/application/user/authentication/v1.0/"

urlpatterns = [
    path(PLATFORM + "customers/<str:user_id>/sign_in_token", handoff_views.SignInTokenView.as_view(),
         name="customers-sign-in-token"),
    path(STOREFRONT + "login/token", handoff_views.TokenLoginView.as_view(), name="storefront-login-token"),
]
