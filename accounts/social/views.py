"""The social sign-in operations of the SDK's ApplicationClient (3.4.2): thin views over
accounts.social.services. Application credentials only (as every call before sign-in); a sign-in sets the
``f.session`` cookie as the other sign-ins do (accounts.views.answer)."""

from typing import NotRequired, TypedDict

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request

from accounts.social import serializers, services
from accounts.views import PLATFORM, VisitorView, answer, visit_of
from core.api.schema import answers, error_answer
from core.api.views import OwnTransactions, validated
from users.schema import User as UserSchema

AuthSuccess = TypedDict("AuthSuccess", {"user_exists": bool, "user": NotRequired[UserSchema],
                                        "register_token": NotRequired[str]})
ANSWERS = {**answers(AuthSuccess, 400, 401, 403, 409, 429),
           502: error_answer(502, description="The provider could not be reached to check the token "
                             "(provider_unavailable): try again.")}


class _SocialLoginView(OwnTransactions, VisitorView):
    provider = ""
    body = serializers.OAuthRequestSerializer

    def _login(self, request: Request):
        credentials = validated(self.body, request)
        return answer(request, services.login(visit_of(request), self.provider, credentials))


def _view(name: str, provider: str, operation_id: str, summary: str, body=serializers.OAuthRequestSerializer):
    def post(self, request):
        return self._login(request)

    post = extend_schema(operation_id=operation_id, summary=summary, parameters=[PLATFORM], request=body,
                         responses=ANSWERS)(post)
    return type(name, (_SocialLoginView,), {"provider": provider, "body": body, "post": post})


GoogleLoginView = _view("GoogleLoginView", "google", "loginWithGoogle",
                        "Sign in (or up) with a Google ID token or access token (storefront)")
GoogleAndroidLoginView = _view("GoogleAndroidLoginView", "google", "loginWithGoogleAndroid",
                               "Sign in (or up) with Google on Android (storefront)")
GoogleIosLoginView = _view("GoogleIosLoginView", "google", "loginWithGoogleIOS",
                           "Sign in (or up) with Google on iOS (storefront)")
FacebookLoginView = _view("FacebookLoginView", "facebook", "loginWithFacebook",
                          "Sign in (or up) with a Facebook access token (storefront)")
AppleLoginView = _view("AppleLoginView", "apple", "loginWithAppleIOS",
                       "Sign in (or up) with an Apple identity token (storefront)",
                       body=serializers.OAuthRequestAppleSerializer)
