"""Jobs on the wire: the SDK's BulkActionModel (strings never null, counts as numbers) plus a few extras."""

from rest_framework import serializers

from core import files
from core.jobs.handlers import handler_for
from core.jobs.models import Job
from core.timefmt import iso


def job_dict(job: Job, request=None) -> dict:
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


def file_links(job: Job, request=None) -> dict:
    """BulkActionLinkSchema: "file" (the result, e.g. an export) and "error" (the error report), when present."""
    links = {}
    for key, name in (("file", job.result_file), ("error", job.error_file)):
        if name:
            links[key] = {"absolute_url": files.signed_url(name, request), "relative_url": name}
    return links


# --------------------------------------------------------------------------- OpenAPI shapes

class _CreatedByOut(serializers.Serializer):
    name = serializers.CharField()
    user_id = serializers.CharField()
    type = serializers.CharField()


class _CountOut(serializers.Serializer):
    total = serializers.IntegerField()
    success = serializers.IntegerField()
    error = serializers.IntegerField()


class _FileLinkOut(serializers.Serializer):
    absolute_url = serializers.CharField(help_text="Signed download link, valid FILE_LINK_TTL_SECONDS.")
    relative_url = serializers.CharField(help_text="The file's name in storage.")


class _LinksOut(serializers.Serializer):
    file = _FileLinkOut(required=False)
    error = _FileLinkOut(required=False)


class BulkActionOut(serializers.Serializer):
    _id = serializers.CharField()
    file_name = serializers.CharField()
    file_format = serializers.CharField()
    action_type = serializers.CharField()
    created_by = _CreatedByOut()
    count = _CountOut()
    status = serializers.ChoiceField(choices=[s for s, _ in Job.STATUSES])
    links = _LinksOut()
    application_id = serializers.CharField()
    company_id = serializers.CharField()
    created_at = serializers.CharField()
    updated_at = serializers.CharField()
    kind = serializers.CharField()
    progress = serializers.IntegerField(help_text="Percent of the rows processed, 0 to 100.")
    processed = serializers.IntegerField()
    error = serializers.CharField(help_text="Why the job failed; empty otherwise.")
    started_at = serializers.CharField()
    finished_at = serializers.CharField()
