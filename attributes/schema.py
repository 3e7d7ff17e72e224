"""Attribute definitions and values on the wire (the SDK's UserAttributeDefinition / UserAttribute family),
declared once: attributes.presenters, attributes.bulk and the views build these dicts, the OpenAPI document
is derived from them (core.api.schema)."""

from typing import Annotated, Any, Literal, NotRequired, TypedDict

from attributes.models import AttributeDefinition
from core.api.schema import Instant, ObjectId, Page, Schema
from core.jobs.schema import BulkAction
from users.schema import User

AttributeType = Literal[tuple(value for value, _label in AttributeDefinition.TYPE_CHOICES)]
Count = Annotated[int, Schema(minimum=0)]
AnyValue = Annotated[Any, Schema(description="A value of the definition's type (a list when multi value).")]

Flags = TypedDict("AttributeFlags", {"enabled": bool, "type": str})
Validation = TypedDict("AttributeValidation", {"type": str, "value": Any})
Definition = TypedDict("UserAttributeDefinition", {
    "_id": ObjectId,
    "name": str,
    "slug": str,
    "description": str,
    "application_id": ObjectId,
    "type": AttributeType,
    "icon": str,
    "ordering_channels": list[str],
    "masking": Flags,
    "registration": Flags,
    "multi_value": bool,
    "is_multi_value": bool,
    "customer_editable": bool,
    "encrypted": bool,
    "pinned": bool,
    "pin_order": Count,
    "default_value": Annotated[Any, Schema(nullable=True)],
    "validations": list[Validation],
    "is_locked": bool,
    "created_by": str,
    "updated_by": str,
    "created_at": Instant,
    "modified_at": Instant,
    "updated_at": Instant,
    "__v": Count,
})
DefinitionList = TypedDict("UserAttributeDefinitionList", {"items": list[Definition], "page": Page})

AttributeValue = TypedDict("UserAttributeValue", {"value": AnyValue})
Attribute = TypedDict("UserAttribute", {
    "_id": ObjectId,
    "name": str,
    "slug": str,
    "user_id": ObjectId,
    "application_id": ObjectId,
    "user_attribute_definition_id": ObjectId,
    "type": AttributeType,
    "multi_value": bool,
    "encrypted": bool,
    "customer_overridden": bool,
    "customer_overriden": Annotated[bool, Schema(description="The seed's spelling of customer_overridden.")],
    "attribute": AttributeValue,
    "created_by": str,
    "updated_by": str,
    "created_at": Instant,
    "updated_at": Instant,
    "__v": Count,
})
AttributeList = TypedDict("UserAttributeList", {"items": list[Attribute], "page": Page})
AttributesSet = TypedDict("UserAttributesSet", {"success": Literal[True], "attributes": list[Attribute]})
SuccessMessage = TypedDict("SuccessMessage", {"success": Literal["true"], "message": str})

FilteredPhoneNumber = TypedDict("FilteredPhoneNumber", {
    "phone": str,
    "country_code": Annotated[str, Schema(pattern=r"^\d+$", description="A string here, as the SDK has it.")],
    "active": bool,
    "primary": bool,
    "verified": bool,
})
FilteredUser = TypedDict("UserAttributeFilteredUser", {
    **{name: hint for name, hint in User.__annotations__.items() if name != "phone_numbers"},
    "phone_numbers": list[FilteredPhoneNumber],
    "is_encrypted": Literal[False],
    "attributes": list[Attribute],
})
FilteredUserList = TypedDict("UserAttributeFilteredList", {"items": list[FilteredUser], "page": Page})

RowError = TypedDict("BulkOperationError", {"user_id": str, "error": str})
BulkOperation = TypedDict("BulkOperation", {
    "success": bool,
    "total": Count,
    "processed": Count,
    "errors_count": Count,
    "errors": list[RowError],
    "processing_type": Literal["synchronous", "asynchronous"],
    "error_summary": Annotated[dict[str, int], Schema(description="How many rows failed with each message.")],
    "job_id": NotRequired[ObjectId],  # asynchronous only: the job that runs it
    "job": NotRequired[BulkAction],
})
