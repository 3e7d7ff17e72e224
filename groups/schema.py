"""Customer groups on the wire (the SDK's UserGroupResponseSchema, plus whitelisted_users, tags, progress),
declared once: groups.presenters builds these dicts, the OpenAPI document is derived from them."""

from typing import Annotated, Literal, TypedDict

from core.api.schema import Instant, InstantOrEmpty, ObjectId, Page, Schema
from groups.models import UserGroup

GroupStatus = Literal[tuple(status for status, _label in UserGroup.STATUSES)]
GroupType = Literal[tuple(kind for kind, _label in UserGroup.TYPES)]
Count = Annotated[int, Schema(minimum=0)]
ObjectIdOrEmpty = Annotated[str, Schema(pattern=r"^([0-9a-f]{24})?$")]

Condition = TypedDict("ConditionsSchema", {
    "user_attribute_definition_id": str,
    "type": str,
    "value": Annotated[str, Schema(description="The condition's value as text.")],
    "key": Annotated[str, Schema(description="The definition's slug; empty when it no longer exists.")],
})
GroupError = TypedDict("UserGroupError", {
    "count": Count,
    "file_url": Annotated[str, Schema(description="Signed link to the error report; empty when none.")],
    "message": str,
})
GroupProgress = TypedDict("UserGroupProgress", {
    "job_id": ObjectIdOrEmpty,
    "status": Annotated[str, Schema(description="The latest membership job's status; empty before the first.")],
    "percent": Annotated[int, Schema(minimum=0, maximum=100)],
    "total": Count,
    "processed": Count,
    "success": Count,
    "errors": Count,
})
GroupCreatedBy = TypedDict("UserGroupCreatedBy", {"type": str, "id": str, "name": str})
Group = TypedDict("UserGroupResponseSchema", {
    "_id": ObjectId,
    "uid": Annotated[int, Schema(minimum=1)],
    "name": str,
    "description": str,
    "application_id": ObjectId,
    "type": GroupType,
    "status": GroupStatus,
    "is_active": bool,
    "file_url": str,
    "conditions": list[Condition],
    "whitelisted_users": list[str],
    "blacklisted_users": list[str],
    "tags": list[str],
    "error": GroupError,
    "progress": GroupProgress,
    "created_by": GroupCreatedBy,
    "created_at": Instant,
    "modified_at": Instant,
    "processed_at": InstantOrEmpty,
    "__v": Count,
})
GroupList = TypedDict("UserGroupListResponseSchema", {"items": list[Group], "page": Page})
