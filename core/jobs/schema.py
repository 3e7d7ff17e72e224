"""Jobs on the wire (the SDK's BulkActionModel, plus kind, progress, processed, error, started / finished),
declared once: core.jobs.presenters builds these dicts, the OpenAPI document is derived from them."""

from typing import Annotated, Literal, NotRequired, TypedDict

from core.api.schema import Instant, InstantOrEmpty, ObjectId, Page, Schema
from core.jobs.models import Job

JobStatus = Literal[tuple(status for status, _label in Job.STATUSES)]
Count = Annotated[int, Schema(minimum=0)]

CreatedBy = TypedDict("BulkActionCreatedBy", {"name": str, "user_id": str, "type": str})
JobCount = TypedDict("BulkActionCount", {"total": Count, "success": Count, "error": Count})
FileLink = TypedDict("FileLink", {
    "absolute_url": Annotated[str, Schema(description="Signed download link, valid FILE_LINK_TTL_SECONDS.")],
    "relative_url": Annotated[str, Schema(description="The file's name in storage.")],
})
FileLinks = TypedDict("BulkActionLinkSchema", {
    "file": NotRequired[FileLink],  # the result (an export), once there is one
    "error": NotRequired[FileLink],  # the error report, when rows failed
})
BulkAction = TypedDict("BulkActionModel", {
    "_id": ObjectId,
    "file_name": str,
    "file_format": str,
    "action_type": str,
    "created_by": CreatedBy,
    "count": JobCount,
    "status": JobStatus,
    "links": FileLinks,
    "application_id": ObjectId,
    "company_id": Annotated[str, Schema(pattern=r"^\d+$")],
    "created_at": Instant,
    "updated_at": Instant,
    "kind": str,
    "progress": Annotated[int, Schema(minimum=0, maximum=100, description="Percent of the rows processed.")],
    "processed": Count,
    "error": Annotated[str, Schema(description="Why the job failed; empty otherwise.")],
    "started_at": InstantOrEmpty,
    "finished_at": InstantOrEmpty,
})
BulkActionPage = TypedDict("BulkActionPaginationSchema", {"items": list[BulkAction], "page": Page})
