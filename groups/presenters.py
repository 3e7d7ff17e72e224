"""Groups as the SDK's UserGroupResponseSchema expects them (strings never null, numbers as numbers,
a condition's value always a string), plus a few extras (whitelisted_users, tags, progress, job_id)."""

from core import files
from core.timefmt import iso
from groups import selectors
from groups.models import UserGroup
from groups.schema import Condition, Group


def file_link(group: UserGroup, request=None) -> str:
    """The group's file: the URL given, or a fresh signed link to a file uploaded in the admin."""
    if not group.file_url or group.file_url.startswith(("http://", "https://")):
        return group.file_url
    return files.signed_url(group.file_url, request)


def condition_dict(condition: dict, definitions: dict) -> Condition:
    definition = definitions.get(condition.get("user_attribute_definition_id"))
    return {"user_attribute_definition_id": condition.get("user_attribute_definition_id", ""),
            "type": condition.get("type", ""), "value": str(condition.get("value", "")),
            "key": definition.slug if definition is not None else ""}


def group_dict(group: UserGroup, request=None, *, definitions: dict | None = None) -> Group:
    if definitions is None:
        definitions = selectors.definitions_of([group])
    job = group.job
    error = {"count": 0, "file_url": "", "message": ""}
    progress = {"job_id": "", "status": "", "percent": 100, "total": 0, "processed": 0, "success": 0, "errors": 0}
    if job is not None:
        error = {"count": job.error_count,
                 "file_url": files.signed_url(job.error_file, request) if job.error_file else "",
                 "message": job.error}
        progress = {"job_id": job.pk, "status": job.status, "percent": job.progress, "total": job.total,
                    "processed": job.processed, "success": job.success_count, "errors": job.error_count}
    return {
        "_id": group.pk,
        "uid": group.uid,
        "name": group.name,
        "description": group.description,
        "application_id": group.application_id,
        "type": group.type,
        "status": selectors.effective_status(group),
        "is_active": group.is_active,
        "file_url": file_link(group, request),
        "conditions": [condition_dict(c, definitions) for c in group.conditions or []],
        "whitelisted_users": list(group.whitelisted_users or []),
        "blacklisted_users": list(group.blacklisted_users or []),
        "tags": list(group.tags or []),
        "error": error,
        "progress": progress,
        "created_by": {"type": str(group.created_by.get("type") or ""), "id": str(group.created_by.get("id") or ""),
                       "name": str(group.created_by.get("name") or "")},
        "created_at": iso(group.created_at),
        "modified_at": iso(group.modified_at),
        "processed_at": iso(group.processed_at),
        "__v": group.version,
    }
