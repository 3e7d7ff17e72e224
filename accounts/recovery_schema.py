"""The answers of the forgotten-password operations, declared once (names and fields of the SDK's storefront
models); the others they answer (LoginSuccess, SendOtpSuccess, EmailOtpSuccess) are in accounts.schema."""

from typing import TypedDict

ResetPasswordSuccess = TypedDict("ResetPasswordSuccess", {"status": str})
ResetForgotPasswordSuccess = TypedDict("ResetForgotPasswordSuccess", {"success": bool})
VerifyForgotOtpSuccess = TypedDict("VerifyForgotOtpSuccess", {"success": bool, "forgot_token": str})
