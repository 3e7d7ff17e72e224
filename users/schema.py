"""Customers on the wire (the SDK's UserSchema family), declared once: users.presenters and users.timeline
build these dicts, and the OpenAPI document is derived from these declarations (core.api.schema)."""

from typing import Annotated, Literal, NotRequired, TypedDict

from core.api.schema import FreeForm, Instant, InstantOrEmpty, ObjectId, Page, Schema

Email = TypedDict("Email", {"email": str, "active": bool, "primary": bool, "verified": bool})
PhoneNumber = TypedDict("PhoneNumber", {
    "phone": str,
    "country_code": Annotated[int, Schema(minimum=0)],
    "active": bool,
    "primary": bool,
    "verified": bool,
})
CustomerStatus = Literal["active", "blocked", "archived"]
User = TypedDict("UserSchema", {
    "_id": ObjectId,
    "user_id": ObjectId,
    "application_id": ObjectId,
    "first_name": str,
    "last_name": str,
    "gender": str,
    "dob": Annotated[str, Schema(pattern=r"^(\d{4}-\d\d-\d\d)?$", description="YYYY-MM-DD; empty when unknown.")],
    "username": str,
    "profile_pic_url": str,
    "account_type": str,
    "external_id": str,
    "rr_id": str,
    "meta": FreeForm,
    "active": bool,
    "archive": bool,
    "status": CustomerStatus,
    "emails": list[Email],
    "phone_numbers": list[PhoneNumber],
    "created_at": Instant,
    "updated_at": Instant,
    "has_old_password_hash": Annotated[bool, Schema(description="True while a password hash moved in from "
                                                    "another platform waits for the first sign-in to be re-hashed "
                                                    "(docs/migration.md).")],
    "__v": Annotated[int, Schema(minimum=0)],
    "deleted_on": NotRequired[Instant],  # archived customers only
    "restore_until": NotRequired[Instant],
})

CustomerList = TypedDict("CustomerListResponseSchema", {"items": list[User], "page": Page})
UserSearch = TypedDict("UserSearchResponseSchema", {"users": list[User]})
UserObject = TypedDict("UserObjectSchema", {"user": User})

TimelineItem = TypedDict("UserTimeline", {
    "date": Instant,
    "title": str,
    "type": str,
    "visible": bool,
    "sub_title": str,
})
Timeline = TypedDict("GetUserTimeline", {
    "delete_on": Annotated[InstantOrEmpty, Schema(description="When an archived customer will be purged; "
                                                              "empty for a live one.")],
    "timeline": list[TimelineItem],
})
