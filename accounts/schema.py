"""The storefront account answers, declared once (the views build these dicts; the OpenAPI document is
derived from them). Names and fields are the SDK's storefront models (../shared/spec/storefront/)."""

from typing import NotRequired, TypedDict

from users.schema import User as UserSchema

RegisterFormSuccess = TypedDict("RegisterFormSuccess", {
    "success": bool, "user_exists": bool, "verify_mobile_otp": bool, "verify_email_otp": bool,
    "register_token": NotRequired[str], "request_id": NotRequired[str], "message": NotRequired[str],
    "resend_timer": NotRequired[int], "resend_token": NotRequired[str], "resend_email_token": NotRequired[str],
    "mobile": NotRequired[str], "country_code": NotRequired[str], "email": NotRequired[str],
})
LoginSuccess = TypedDict("LoginSuccess", {"user": UserSchema, "request_id": NotRequired[str],
                                          "register_token": NotRequired[str]})
SendOtpSuccess = TypedDict("SendOtpSuccess", {
    "success": bool, "request_id": str, "message": str, "resend_timer": int, "resend_token": str,
    "mobile": NotRequired[str], "country_code": NotRequired[str],
})
EmailOtpSuccess = TypedDict("EmailOtpSuccess", {"success": bool, "resend_email_token": str})
VerifyOtpSuccess = TypedDict("VerifyOtpSuccess", {"user_exists": bool, "user": NotRequired[UserSchema],
                                                  "register_token": NotRequired[str]})
HasPasswordSuccess = TypedDict("HasPasswordSuccess", {"result": int})
UserExistsDetails = TypedDict("UserExistsDetails", {"user_exists": bool})
VerifyEmailSuccess = TypedDict("VerifyEmailSuccess", {"message": str})
