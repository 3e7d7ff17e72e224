"""The storefront's view of the platform config, and the signed-in customer's profile details, attributes and
account deletion: thin views over accounts/account.py."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from accounts import account, account_schema, account_serializers
from accounts.views import PLATFORM, VisitorView, visit_of
from core.api.schema import answers
from core.api.views import validated
from sessions_app import store
from sessions_app.storefront import StorefrontView
from users.presenters import customer_dict

NAME = OpenApiParameter("name", str, description="The application's name (accepted, not needed: the credentials "
                                                 "name the application).")
SLUG = OpenApiParameter("slug", str, description="Only this attribute (its slug).")


class StorefrontConfigView(VisitorView):
    @extend_schema(operation_id="getStorefrontPlatformConfig", summary="The platform config as a storefront sees "
                   "it: no secret (storefront getPlatformConfig)", parameters=[NAME],
                   responses=answers(account_schema.StorefrontPlatformSchema, 401))
    def get(self, request):
        return Response(account.storefront_config(request.user.application))


class ProfileDetailView(StorefrontView):
    @extend_schema(operation_id="updateProfile", summary="Edit the signed-in customer's profile (storefront)",
                   parameters=[PLATFORM], request=account_serializers.EditProfileSerializer,
                   responses=answers(account_schema.ProfileEditSuccess, 400, 401, 409, 429))
    def post(self, request):
        data = validated(account_serializers.EditProfileSerializer, request)
        outcome = account.update_profile(visit_of(request), request.user.customer, data)
        return Response({**outcome.fields, "user": customer_dict(outcome.fields["user"])})


class DeleteUserView(StorefrontView):
    @extend_schema(operation_id="deleteUser", summary="Delete the signed-in customer's account, confirmed by a "
                   "one-time code (storefront)", request=account_serializers.DeleteUserSerializer,
                   responses=answers(account_schema.DeleteUserSuccess, 400, 401, 403, 409, 429))
    def post(self, request):
        data = validated(account_serializers.DeleteUserSerializer, request)
        outcome = account.delete_account(visit_of(request), request.user.customer, data)
        response = Response(outcome.fields)
        if not outcome.fields.get("request_id"):  # deleted: the sessions are gone, the cookie goes too
            response.delete_cookie(store.COOKIE_NAME)
        return response


class UserAttributesView(StorefrontView):
    @extend_schema(operation_id="getUserAttributes", summary="The signed-in customer's editable attributes "
                   "(storefront)", parameters=[SLUG], responses=answers(account_schema.UserAttributes, 400, 401))
    def get(self, request):
        slug = request.query_params.get("slug") or None
        return Response(account.customer_attributes(request.user.application, request.user.customer, slug))

    @extend_schema(operation_id="updateStorefrontUserAttributes", summary="Set the signed-in customer's editable "
                   "attributes (storefront updateUserAttributes)",
                   request=account_serializers.UpdateAttributesSerializer,
                   responses=answers(account_schema.UserAttributes, 400, 401))
    def patch(self, request):
        data = validated(account_serializers.UpdateAttributesSerializer, request)
        return Response(account.update_customer_attributes(request.user.application, request.user.customer,
                                                           data["attributes"]))
