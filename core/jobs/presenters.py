"""Jobs on the wire: the SDK's BulkActionModel (strings never null, counts as numbers) plus a few extras."""

from core import files
from core.jobs.handlers import handler_for
from core.jobs.models import Job
from core.jobs.schema import BulkAction, FileLinks
from core.timefmt import iso


def job_dict(job: Job, request=None) -> BulkAction:
    """BulkActionModel, plus kind, progress (0-100), processed, error (why it failed), started / finished."""
    created_by = job.created_by or {}
    try:
        action_type = getattr(handler_for(job.kind), "action_type", "") or job.kind
    except LookupError:  # a kind no longer registered still shows
        action_type = job.kind
    return {
        "_id": job.pk,
        "file_name": job.file_name,
        "file_format": job.file_format,
        "action_type": action_type,
        "created_by": {"name": str(created_by.get("name") or ""), "user_id": str(created_by.get("id") or ""),
                       "type": str(created_by.get("type") or "")},
        "count": {"total": job.total, "success": job.success_count, "error": job.error_count},
        "status": job.status,
        "links": file_links(job, request),
        "application_id": job.application_id,
        "company_id": str(job.company_id),
        "created_at": iso(job.created_at),
        "updated_at": iso(job.updated_at),
        "kind": job.kind,
        "progress": job.progress,
        "processed": job.processed,
        "error": job.error,
        "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at),
    }


def file_links(job: Job, request=None) -> FileLinks:
    """BulkActionLinkSchema: "file" (the result, e.g. an export) and "error" (the error report), when present."""
    links: FileLinks = {}
    for key, name in (("file", job.result_file), ("error", job.error_file)):
        if name:
            links[key] = {"absolute_url": files.signed_url(name, request), "relative_url": name}
    return links

