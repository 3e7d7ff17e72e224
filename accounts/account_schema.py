"""The answers of getPlatformConfig (storefront), updateProfile, deleteUser and the customer's attributes,
declared once (the views build these dicts; the OpenAPI document is derived from them)."""

from typing import Any, NotRequired, TypedDict

from sessions_app.schema import PlatformConfig as PlatformSchema
from users.schema import User as UserSchema

_platform = PlatformSchema.__annotations__
_NOT_SHOWN = ("account_lockout", "social_tokens")  # left out, or replaced below
PublicSocialApp = TypedDict("StorefrontSocialApp", {"app_id": str})
StorefrontPlatformSchema = TypedDict("StorefrontPlatformSchema", {
    **{key: hint for key, hint in _platform.items() if key not in _NOT_SHOWN},
    "social_tokens": TypedDict("StorefrontSocialTokens", {"facebook": PublicSocialApp,
                                                          "account_kit": PublicSocialApp,
                                                          "google": PublicSocialApp,
                                                          "apple": PublicSocialApp}),
})

ProfileEditSuccess = TypedDict("ProfileEditSuccess", {
    "user": UserSchema, "success": bool, "user_exists": bool, "verify_email_otp": bool, "verify_mobile_otp": bool,
    "verify_email_link": bool, "request_id": NotRequired[str], "message": NotRequired[str],
    "resend_timer": NotRequired[int], "resend_token": NotRequired[str], "resend_email_token": NotRequired[str],
    "mobile": NotRequired[str], "country_code": NotRequired[str], "email": NotRequired[str],
})
DeleteUserSuccess = TypedDict("DeleteUserSuccess", {
    "success": bool, "request_id": NotRequired[str], "message": NotRequired[str], "resend_timer": NotRequired[int],
    "resend_token": NotRequired[str], "mobile": NotRequired[str], "country_code": NotRequired[str],
    "email": NotRequired[str],
})
UserAttributes = TypedDict("UserAttributes", {"attributes": dict[str, Any]})
