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

EventActor = TypedDict("EventActor", {
    "type": Annotated[str, Schema(description="api_client, staff, customer, storefront or system.")],
    "id": str,
    "name": str,
})
Event = TypedDict("Event", {
    "id": Annotated[str, Schema(pattern=r"^[0-9a-f]{24}$", description="The event's id (24 hex digits); the "
                                "same in the pull API and as a webhook's webhook-id.")],
    "type": Annotated[str, Schema(description="customer.created, account.signed_in, … (docs/events.md).")],
    "version": Annotated[int, Schema(minimum=1, description="Of the data's format, per type.")],
    "sequence": Annotated[int, Schema(minimum=1, description="Increasing in the order events become visible.")],
    "occurred_at": Instant,
    "application_id": ObjectId,
    "company_id": str,
    "customer_id": ObjectId | None,
    "actor": EventActor,
    "request_id": str,
    "data": FreeForm,
})
CursorPage = TypedDict("CursorPage", {
    "type": Literal["cursor"],
    "next_id": Annotated[str, Schema(description="Send it as ``after`` for the events that follow; resumes "
                                     "exactly where this page ended (also when it was the last one).")],
    "has_next": bool,
    "size": Annotated[int, Schema(minimum=1)],
})
EventList = TypedDict("EventList", {"items": list[Event], "page": CursorPage})
