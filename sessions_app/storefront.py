"""The storefront (application) side of a session, as the official SDK's ApplicationClient calls it:
getLoggedInUser, getListOfActiveSessions and logout under
/service/application/user/authentication/v1.0/.

Authentication as that SDK does it: ``Authorization: Bearer base64(application_id:application_token)``
identifies the application (its token is stored as a SHA-256 digest), and the ``f.session`` cookie
(signed session id, see sessions_app/store.py) identifies the customer. Every request checks that the
session is live and belongs to this application, and that the customer is still active and not
archived; otherwise 401. Rolling sessions are renewed for their full lifetime on each request.
"""

import base64
import binascii
import hmac
from dataclasses import dataclass

from drf_spectacular.utils import extend_schema
from rest_framework import authentication, exceptions, permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from core.actors import Actor
from core.api.schema import answers
from core.tenancy.models import Application, hash_secret
from sessions_app import services, store
from sessions_app.platform_config import application_with_config
from sessions_app.schema import LoggedOut, StorefrontSessions
from users.models import Customer
from users.presenters import customer_dict
from users.schema import UserObject
from users.selectors import customer_with_contacts


@dataclass(frozen=True)
class StorefrontPrincipal:
    """A logged-in customer of one application, with the session the request came with."""

    application: Application
    customer: Customer
    session: store.Session

    is_authenticated = True
    actor_type = "customer"

    @property
    def actor(self) -> Actor:
        return Actor("customer", self.customer.id, self.customer.username)


def _application_credentials(request) -> tuple[str, str] | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    parts = header.split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        return None
    try:
        decoded = base64.b64decode(parts[1], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    application_id, sep, token = decoded.partition(":")
    if not sep or not token:
        return None
    return application_id, token


def authenticated_application(request) -> Application:
    """The application of the request's ``Authorization: Bearer base64(application_id:token)``; 401 otherwise."""
    credentials = _application_credentials(request)
    if credentials is None:
        raise exceptions.NotAuthenticated(
            "Application credentials are required: Authorization: Bearer base64(application_id:token).")
    application_id, token = credentials
    application = application_with_config(application_id)
    if application is None or not hmac.compare_digest(application.token_hash, hash_secret(token)):
        raise exceptions.AuthenticationFailed("The application id or token is invalid.")
    return application


@dataclass(frozen=True)
class StorefrontVisitor:
    """A storefront call with the application's credentials and no signed-in customer (yet): sign-up,
    sign-in, one-time codes, password resets."""

    application: Application

    is_authenticated = True
    actor_type = "storefront"


class StorefrontApplicationAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        return StorefrontVisitor(authenticated_application(request)), None

    def authenticate_header(self, request):
        return 'Bearer realm="application"'


class StorefrontAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        application = authenticated_application(request)
        session_id = store.unsign(request.COOKIES.get(store.COOKIE_NAME))
        if session_id is None:
            raise exceptions.NotAuthenticated("No valid session: log in first (cookie f.session).")
        session = store.get(session_id)
        if session is None or session.application_id != application.id:
            raise exceptions.AuthenticationFailed("The session has expired or was ended; log in again.")
        customer = customer_with_contacts(application.id, session.customer_id)
        if customer is None or customer.archived or not customer.active:
            raise exceptions.AuthenticationFailed("This account is blocked or deleted.")
        services.renew_if_rolling(session)
        return StorefrontPrincipal(application, customer, session), session

    def authenticate_header(self, request):
        return 'Bearer realm="application"'  # makes DRF answer 401, not 403


class IsStorefrontCustomer(permissions.BasePermission):
    def has_permission(self, request, view):
        if not isinstance(request.user, StorefrontPrincipal):
            raise exceptions.NotAuthenticated("No valid session: log in first (cookie f.session).")
        return True


class StorefrontView(APIView):
    authentication_classes = [StorefrontAuthentication]
    permission_classes = [IsStorefrontCustomer]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response


class LoggedInUserView(StorefrontView):
    @extend_schema(operation_id="getLoggedInUser", summary="The customer of the session (storefront)",
                   responses=answers(UserObject, 401))
    def get(self, request):
        return Response({"user": customer_dict(request.user.customer)})


class ActiveSessionsView(StorefrontView):
    @extend_schema(operation_id="getListOfActiveSessions", summary="The customer's live sessions (storefront)",
                   responses=answers(StorefrontSessions, 401))
    def get(self, request):
        principal = request.user
        sessions = store.list_for_customer(principal.application.id, principal.customer.id)
        return Response({"sessions": [s.session_id for s in sessions]})


class LogoutView(StorefrontView):
    @extend_schema(operation_id="logout", summary="End the session of this request (storefront)",
                   responses=answers(LoggedOut, 401))
    def get(self, request):
        principal = request.user
        services.logout(principal.session, principal.actor)
        response = Response({"logout": True})
        response.delete_cookie(store.COOKIE_NAME)
        return response
