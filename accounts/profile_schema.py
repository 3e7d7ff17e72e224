"""The answers of the signed-in customer's contact operations (accounts/profile_views.py), declared once;
names and fields are the SDK's storefront models (../shared/spec/storefront/)."""

from typing import TypedDict

from users.schema import User as UserSchema

VerifyEmailOTPSuccess = TypedDict("VerifyEmailOTPSuccess", {"user": UserSchema, "verify_email_link": bool})
VerifyMobileOTPSuccess = TypedDict("VerifyMobileOTPSuccess", {"user": UserSchema, "verify_mobile_link": bool})
SendEmailVerifyLinkSuccess = TypedDict("SendEmailVerifyLinkSuccess", {"verify_email_link": bool})
SendMobileVerifyLinkSuccess = TypedDict("SendMobileVerifyLinkSuccess", {"verify_mobile_link": bool})
# verifyOTPonPrimary's VerifyPrimaryOTPSuccess is newer than the models: shaped like VerifyOtpSuccess.
VerifyPrimaryOTPSuccess = TypedDict("VerifyPrimaryOTPSuccess", {"user_exists": bool, "user": UserSchema})
