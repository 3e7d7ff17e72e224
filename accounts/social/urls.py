"""The social sign-in paths (SDK 3.4.2), included from accounts/urls.py."""

from django.urls import path

from accounts.social import views

AUTH = "authentication/v1.0/"

urlpatterns = [
    path(AUTH + "login/google-token", views.GoogleLoginView.as_view(), name="storefront-login-google"),
    path(AUTH + "login/google-android", views.GoogleAndroidLoginView.as_view(), name="storefront-login-google-android"),
    path(AUTH + "login/google-ios", views.GoogleIosLoginView.as_view(), name="storefront-login-google-ios"),
    path(AUTH + "login/facebook-token", views.FacebookLoginView.as_view(), name="storefront-login-facebook"),
    path(AUTH + "login/apple-ios", views.AppleLoginView.as_view(), name="storefront-login-apple"),
]
