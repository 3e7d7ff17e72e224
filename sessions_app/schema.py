"""Sessions and the platform config on the wire, declared once (sessions_app.selectors and the views build these dicts; the OpenAPI
document is derived from them), and how the storefront endpoints authenticate (the SDK's ApplicationClient)."""

from typing import Annotated, Literal, TypedDict

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerExtension

from core.api.schema import FreeForm, Instant, ObjectId, Schema


class StorefrontScheme(OpenApiAuthenticationExtension):
    target_class = "sessions_app.storefront.StorefrontAuthentication"
    name = ["storefrontApplication", "storefrontSession"]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "http", "scheme": "bearer",
             "description": "Authorization: Bearer base64(application_id:application_token)"},
            {"type": "apiKey", "in": "cookie", "name": "f.session",
             "description": "The signed session value from createUserSession."},
        ]


class StorefrontApplicationScheme(OpenApiAuthenticationExtension):
    """The calls before sign-in (sign-in, sign-up, one-time codes, recovery): the application's credentials only."""

    target_class = "sessions_app.storefront.StorefrontApplicationAuthentication"
    name = "storefrontApplicationOnly"  # the same header as storefrontApplication, without a session

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "Authorization: Bearer base64(application_id:application_token)"}


SessionCookie = TypedDict("SessionCookie", {"f.session": Annotated[str, Schema(
    description="The signed session value: send it back as the f.session cookie.")]})
CreatedSession = TypedDict("SessionListSuccessResponse", {
    "domain": str,
    "max_age": Annotated[int, Schema(minimum=1, description="Lifetime in seconds.")],
    "secure": Literal[True],
    "http_only": Literal[True],
    "cookie": SessionCookie,
})
SessionInfo = TypedDict("SessionListResponseInfo", {
    "session_id": str,
    "user_agent": str,
    "ip": str,
    "domain": str,
    "expire_in": Annotated[str, Schema(pattern=r"^\d+$", description="Whole seconds left (a string, as the SDK "
                                                                     "has it).")],
    "location": str,
})
SessionList = TypedDict("SessionListResponseSchema", {"items": list[SessionInfo]})
SessionDeleted = TypedDict("SessionDeleteResponseSchema", {"user_id": ObjectId, "session_id": str})
SessionsDeleted = TypedDict("SessionsDeleteResponseSchema", {"user_id": ObjectId, "session_ids": list[str]})

StorefrontSessions = TypedDict("SessionListSuccess", {"sessions": list[str]})
LoggedOut = TypedDict("LogoutSuccess", {"logout": Literal[True]})


# --------------------------------------------------------------------------- platform config (PlatformSchema)

class PlatformConfigSectionScheme(OpenApiSerializerExtension):
    """updatePlatformConfig's objects refuse keys they do not know (platform_serializers.Section): closed,
    except for the other spellings they accept and the keys of a document read back, which they ignore."""

    target_class = "sessions_app.platform_serializers.Section"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        properties = schema.setdefault("properties", {})
        for alias, key in self.target.aliases.items():
            properties[alias] = {"allOf": [properties[key]], "description": f"Another spelling of {key}."}
        for key in self.target.ignored_keys:
            properties[key] = {"description": "Read back with the document; ignored."}
        return {**schema, "additionalProperties": False}


Colour = Annotated[str, Schema(pattern=r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")]
Level = TypedDict("RequiredFieldLevel", {"is_required": bool, "level": Literal["hard", "soft"]})
PasswordRequired = TypedDict("PasswordRequired", {"is_required": bool})
RequiredFields = TypedDict("RequiredFields", {"email": Level, "mobile": Level, "password": PasswordRequired})
SocialToken = TypedDict("SocialToken", {
    "app_id": str,
    "app_secret": Annotated[str, Schema(description="Masked (********) when set: write-only.")],
})
PlatformConfig = TypedDict("PlatformSchema", {
    "_id": ObjectId,
    "display": str,
    "name": str,
    "subtext": str,
    "active": bool,
    "register": bool,
    "forgot_password": bool,
    "skip_captcha": bool,
    "skip_login": bool,
    "mobile_image": str,
    "desktop_image": str,
    "look_and_feel": TypedDict("LookAndFeel", {"card_position": Literal["left", "center", "right"],
                                               "background_color": Colour}),
    "login": TypedDict("Login", {"password": bool, "otp": bool,
                                 "via": Literal["", "email", "mobile", "email_or_mobile"]}),
    "account_lockout": TypedDict("AccountLockout", {"enable": bool, "attempts": int, "duration": int}),
    "password_settings": TypedDict("PasswordSettings", {
        "configs": TypedDict("PasswordConfigs", {"length": int, "require_special_character": bool,
                                                 "require_number": bool, "require_capital_character": bool}),
        "history": TypedDict("PasswordHistory", {"required": bool, "count": int}),
        "expiry": TypedDict("PasswordExpiry", {"required": bool, "duration": int}),
    }),
    "meta": FreeForm,
    "social": TypedDict("Social", {"account_kit": bool, "facebook": bool, "google": bool, "apple": bool}),
    "required_fields": RequiredFields,
    "register_required_fields": RequiredFields,
    "flash_card": TypedDict("FlashCard", {"text": str, "text_color": Colour, "background_color": Colour}),
    "social_tokens": TypedDict("SocialTokens", {"facebook": SocialToken, "account_kit": SocialToken,
                                                "google": SocialToken}),
    "delete_account_day": Annotated[int, Schema(minimum=1, maximum=365)],
    "delete_account_reasons": list[TypedDict("DeleteAccountReason", {"reason_text": str, "reason_id": str,
                                                                     "show_text_area": bool})],
    "delete_account_consent": TypedDict("DeleteAccountConsent", {"consent_text": str}),
    "session_config": TypedDict("SessionExpiry", {"duration": Annotated[int, Schema(minimum=1)],
                                                  "type": Literal["Days", "Hours", "Minutes"],
                                                  "is_rolling": bool}),
    "created_at": Instant,
    "updated_at": Instant,
    "__v": Annotated[int, Schema(minimum=0)],
})
