"""The storefront config, profile details, the customer's attributes and account deletion."""

from django.urls import path

from accounts import account_views

urlpatterns = [
    path("platform/v1.0/config", account_views.StorefrontConfigView.as_view(), name="storefront-platform-config"),
    path("profile/v1.0/detail", account_views.ProfileDetailView.as_view(), name="storefront-update-profile"),
    path("profile/v1.0/user-attributes", account_views.UserAttributesView.as_view(), name="storefront-user-attributes"),
    path("authentication/v1.0/delete", account_views.DeleteUserView.as_view(), name="storefront-delete-user"),
]
