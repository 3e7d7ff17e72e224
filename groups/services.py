"""Writes of customer groups and their rules; the API, the admin and the commands all come here.

- createUserGroup → :func:`create_group`; updateUserGroup (PUT) → :func:`update_group`;
  updateUserGroupPartially (PATCH) → :func:`patch_group`; the admin's upload → :func:`upload_file`;
  manage.py process_group / the admin's "process again" → :func:`reprocess_group`.
- A membership change (a file, or JSON ``user_data``) is a ``group_file`` job (groups/processing.py):
  queued for a worker, or — JSON of at most GROUP_SYNC_LIMIT rows — run at once in the request by the
  same code. One change at a time per group: another one while a job is pending or running is a 409.
- ``__v`` grows by one at every write through here; processing a file changes ``status`` and
  ``processed_at`` only. Every function here is one transaction (a savepoint inside a request): all of
  it or nothing, also when a caller such as an admin form catches the error.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection, transaction

from attributes import conditions as attribute_conditions
from attributes.selectors import definitions_by_id
from core import files, jobs
from core.files import downloads
from core.actors import Actor
from core.api.errors import Conflict, NotFound, ValidationFailed
from core.jobs.models import Job
from groups import processing, selectors
from groups.models import GroupMemberCount, UserGroup
from users import events
from users.services import record_event


# ----------------------------------------------------------------------------- checks

def _next_uid(application) -> int:
    """Race-safe: the counter row stays locked until the transaction ends, so uids follow commits."""
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO customer_groups_groupuidcounter AS c (application_id, last_uid) VALUES (%s, 1) "
                       "ON CONFLICT (application_id) DO UPDATE SET last_uid = c.last_uid + 1 RETURNING last_uid",
                       [application.id])
        return cursor.fetchone()[0]


def checked_conditions(application, conditions: list[dict]) -> list[dict]:
    """Conditions that compile (known definitions of the application, operators that fit their types, values
    of the right type), their definitions locked FOR KEY SHARE so that none is deleted meanwhile."""
    if not conditions:
        raise ValidationFailed("conditions must not be empty for a conditional group.", code="invalid_condition")
    attribute_conditions.parse_conditions(application, conditions, definition_key="user_attribute_definition_id")
    wanted = {c["user_attribute_definition_id"] for c in conditions}
    locked = definitions_by_id(application, list(wanted), lock="share")
    if set(locked) != wanted:  # deleted between the check and the lock
        missing = sorted(wanted - set(locked))
        raise ValidationFailed(f"conditions: no attribute definition {', '.join(missing)} in this application.",
                               code="unknown_definition")
    return conditions


def _checked_users(application, ids: list[str], field: str) -> list[str]:
    """Every id is a customer of the application (archived ones included); 404 listing the others."""
    if not ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM users_customer WHERE application_id = %s AND id = ANY(%s::varchar[])",
                       [application.id, ids])
        known = {row[0] for row in cursor.fetchall()}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise NotFound(f"{field}: no customer {', '.join(unknown[:10])}{' …' if len(unknown) > 10 else ''} in this "
                       "application.", code="user_not_found", meta={"user_ids": unknown})
    return ids


def _check_file_url(url: str) -> str:
    downloads.vet_url(url, field="file_url")  # a private, malformed or unresolvable URL is a 400 at once
    return url


def _ensure_idle(group: UserGroup) -> None:
    job = group.job
    if job is not None and job.status in Job.ACTIVE:
        raise Conflict(f"User group {group.uid} is processing a change (job {job.pk}, {job.status}); try again when "
                       "it is done.", code="group_busy", meta={"job_id": job.pk})


def _listed_and_tags(application, group: UserGroup, data: dict, actor: Actor) -> None:
    """White / blacklists, tags, is_active. Each customer who enters or leaves a list is an event of theirs
    (group.membership_changed): single changes; a file's changes are the job's one summary event."""
    for field in ("whitelisted_users", "blacklisted_users"):
        if field in data:
            before = set(getattr(group, field) or [])
            setattr(group, field, _checked_users(application, data[field], field))
            after = set(getattr(group, field))
            for customer_id, change in [*((c, "added") for c in sorted(after - before)),
                                        *((c, "removed") for c in sorted(before - after))]:
                record_event(customer_id, application.id, events.GROUP_MEMBERSHIP_CHANGED, actor,
                             data={"group_id": group.pk, "uid": group.uid, "list": field.split("_")[0],
                                   "change": change})
    if "tags" in data:
        group.tags = data["tags"]
    if "is_active" in data:
        group.is_active = data["is_active"]


_DESCRIBED = ("name", "description", "type", "conditions", "file_url", "tags", "is_active", "whitelisted_users",
              "blacklisted_users")


def _described(group: UserGroup) -> dict:
    return {name: getattr(group, name) for name in _DESCRIBED}


def _group_event(application, group: UserGroup, action: str, actor: Actor, *, before: dict | None = None) -> None:
    """group.created / group.updated (``changed``: the fields that changed) / group.deleted."""
    data = {"group_id": group.pk, "uid": group.uid, "name": group.name, "type": group.type}
    if before is not None:
        after = _described(group)
        data["changed"] = sorted(name for name in _DESCRIBED if before[name] != after[name])
        if not data["changed"]:
            return
    record_event("", application.id, action, actor, data=data)


# ----------------------------------------------------------------------------- membership changes

UPLOAD_NAME = "upload.csv"  # an admin upload or a process_group --file, in the job's folder


def _start_change(application, group: UserGroup, actor: Actor, *, mode: str, file_url: str | None = None,
                  input_file: str | None = None, uploaded=None, user_data: list | None = None,
                  enqueue: bool = True) -> Job:
    """A group_file job for the change; run now for small JSON, queued otherwise (``enqueue=False``: the
    caller runs it, e.g. a command with its progress). Sets group.job, and group.file_url to an
    ``uploaded`` file's stored name (the job's input, which "process again" reads later)."""
    if user_data is not None:
        payload = processing.GroupFilePayload(group.pk, mode, "json", user_data=user_data)
        name, total = "", len(user_data)
    elif uploaded is not None:
        payload = processing.GroupFilePayload(group.pk, mode, "file")  # input_file: recorded once stored
        name, total = UPLOAD_NAME, 0
    else:
        payload = processing.GroupFilePayload(group.pk, mode, "file", input_file=input_file or None,
                                              file_url=None if input_file else file_url)
        name, total = files.name_in_url(input_file or file_url), 0
    inline = user_data is not None and len(user_data) <= settings.GROUP_SYNC_LIMIT
    job = jobs.create_job(application, processing.KIND, actor, payload=jobs.payload_dict(payload), file_name=name,
                          file_format="json" if user_data is not None else "csv", total=total,
                          enqueue=enqueue and not inline)  # sent at commit: after the upload is stored
    if uploaded is not None:
        group.file_url = _store_upload(job, uploaded, mode)
    group.job = job
    group.save(update_fields=["job", "file_url", "modified_at"])
    if inline:
        jobs.run_job(job.pk)  # the same handler, in this transaction: all of it or none with the request
        job.refresh_from_db()
        group.refresh_from_db()
    return job


# ----------------------------------------------------------------------------- the operations

@transaction.atomic
def create_group(application, data: dict, actor: Actor, *, uploaded=None) -> UserGroup:
    """createUserGroup. A conditional group is active at once; a bulk one needs a file (or user_data, or
    an ``uploaded`` file in the admin), processed by a job (pending, processing, then active or failed)."""
    conditions, file_url, user_data = data.get("conditions"), data.get("file_url"), data.get("user_data")
    kind = data.get("type") or (UserGroup.CONDITIONAL if conditions else UserGroup.BULK)
    if kind == UserGroup.CONDITIONAL:
        if file_url or user_data or uploaded is not None:
            raise ValidationFailed("A conditional group's members follow its conditions: it takes no file_url or "
                                   "user_data (use whitelisted_users / blacklisted_users for exceptions).")
        conditions = checked_conditions(application, conditions or [])
    else:
        if conditions:
            raise ValidationFailed("conditions make a conditional group (type conditional); a bulk group's members "
                                   "come from file_url.")
        if not file_url and not user_data and uploaded is None:
            raise ValidationFailed("file_url is required for a bulk group: a CSV file with a user_id, email or "
                                   "phone_number column (or type conditional with conditions).",
                                   code="file_url_required")
        if sum(1 for given in (file_url, user_data, uploaded) if given) > 1:
            raise ValidationFailed("Give one of file_url, user_data or a file, not several.")
        if file_url:
            _check_file_url(file_url)
    group = UserGroup(
        application=application, uid=_next_uid(application), name=data["name"], description=data["description"],
        type=kind, status=UserGroup.ACTIVE if kind == UserGroup.CONDITIONAL else UserGroup.PENDING,
        conditions=conditions or [], file_url=file_url or "",
        created_by={"type": actor.type, "id": actor.id, "name": actor.name})
    group.save()
    _listed_and_tags(application, group, data, actor)
    group.save()
    GroupMemberCount.objects.create(group=group)
    _group_event(application, group, events.GROUP_CREATED, actor)
    if uploaded is not None:
        _start_change(application, group, actor, mode=processing.REPLACE, uploaded=uploaded)
    elif kind == UserGroup.BULK:
        _start_change(application, group, actor, mode=processing.REPLACE, file_url=file_url,
                      user_data=user_data)
    return group


def _store_upload(job: Job, uploaded, mode: str) -> str:
    """Store an uploaded CSV as the job's input; refused at once without the needed columns."""
    name = jobs.store_job_input(job, uploaded, UPLOAD_NAME)
    try:
        processing.check_file(name, mode)
    except ValidationFailed:
        files.delete_file(name)
        raise
    return name


def _locked(application, group_id) -> UserGroup:
    group = selectors.get_group(application, group_id, lock=True)
    group.job = Job.objects.filter(pk=group.job_id).first() if group.job_id else None
    return group


@transaction.atomic
def update_group(application, group_id, data: dict, actor: Actor) -> UserGroup:
    """updateUserGroup (PUT): name, description; a conditional group's conditions (replaced); a bulk group's
    file_url (the file becomes the whole membership, by a job). The type cannot change."""
    group = _locked(application, group_id)
    before = _described(group)
    if data.get("type") and data["type"] != group.type:
        raise ValidationFailed(f"A group's type cannot change (this one is {group.type}); create another group.",
                               code="group_type_fixed")
    file_url = data.get("file_url")
    if group.type == UserGroup.CONDITIONAL:
        if file_url:
            raise ValidationFailed("A conditional group takes no file_url: its members follow its conditions.")
        if "conditions" in data:
            group.conditions = checked_conditions(application, data["conditions"])
    elif "conditions" in data:
        raise ValidationFailed("A bulk group has no conditions; its members come from files and user_data.")
    elif file_url:
        _ensure_idle(group)
        _check_file_url(file_url)
    for field in ("name", "description"):
        if field in data:
            setattr(group, field, data[field])
    _listed_and_tags(application, group, data, actor)
    if file_url and group.type == UserGroup.BULK:
        group.file_url = file_url
    group.version += 1
    group.save()
    _group_event(application, group, events.GROUP_UPDATED, actor, before=before)
    if file_url and group.type == UserGroup.BULK:
        _start_change(application, group, actor, mode=processing.REPLACE, file_url=file_url)
    return group


@transaction.atomic
def patch_group(application, group_id, data: dict, actor: Actor) -> UserGroup:
    """updateUserGroupPartially (PATCH): name, description, whitelisted_users / blacklisted_users (each list
    replaced when sent), and adds / removes from a CSV (file_url, with an action column) or JSON (user_data)."""
    group = _locked(application, group_id)
    before = _described(group)
    file_url, user_data = data.get("file_url"), data.get("user_data")
    if file_url or user_data:
        if group.type == UserGroup.CONDITIONAL:
            raise ValidationFailed("A conditional group's members follow its conditions: add or remove customers "
                                   "with whitelisted_users / blacklisted_users.")
        _ensure_idle(group)
        if file_url:
            _check_file_url(file_url)
    for field in ("name", "description"):
        if field in data:
            setattr(group, field, data[field])
    _listed_and_tags(application, group, data, actor)
    if file_url:
        group.file_url = file_url
    group.version += 1
    group.save()
    _group_event(application, group, events.GROUP_UPDATED, actor, before=before)
    if file_url or user_data:
        _start_change(application, group, actor, mode=processing.PATCH, file_url=file_url, user_data=user_data)
    return group


@transaction.atomic
def upload_file(application, group_id, uploaded, actor: Actor, *, mode: str = processing.REPLACE,
                enqueue: bool = True) -> UserGroup:
    """The admin's CSV upload: stored by the service (no download), then processed like a file_url
    (``mode`` replace: the file is the whole membership; patch: its action column adds / removes)."""
    group = _locked(application, group_id)
    if group.type != UserGroup.BULK:
        raise ValidationFailed("Only a bulk group takes a file; a conditional group's members follow its conditions.")
    _ensure_idle(group)
    group.version += 1
    group.save()
    _start_change(application, group, actor, mode=mode, uploaded=uploaded, enqueue=enqueue)
    return group


@transaction.atomic
def reprocess_group(application, group_id, actor: Actor, *, enqueue: bool = True) -> Job | None:
    """Process the group's last file again, as it was given (a replace or a patch): a URL is fetched
    anew (its content may have changed), an upload is read from storage. None for a group without a file
    (conditional groups need no processing: their members are computed at every read)."""
    group = _locked(application, group_id)
    if group.type != UserGroup.BULK:
        return None
    last = (Job.objects.filter(application=application, kind=processing.KIND, payload__group_id=group.pk,
                               payload__source="file").order_by("-created_at").first())
    if last is not None:
        payload = processing.payload_of(last)
        mode, file_url, input_file = payload.mode, payload.file_url, payload.input_file
    elif group.file_url:
        mode = processing.REPLACE
        uploaded = not group.file_url.startswith(("http://", "https://"))
        file_url, input_file = (None, group.file_url) if uploaded else (group.file_url, None)
    else:
        return None
    _ensure_idle(group)
    if file_url:
        _check_file_url(file_url)
    group.version += 1
    group.save(update_fields=["version", "modified_at"])
    return _start_change(application, group, actor, mode=mode, file_url=file_url, input_file=input_file,
                         enqueue=enqueue)


@transaction.atomic
def delete_group(application, group_id, actor: Actor | None = None) -> None:
    """Delete a group and its membership rows. The row lock first: a file being applied commits before."""
    group = selectors.get_group(application, group_id, lock=True)
    _group_event(application, group, events.GROUP_DELETED, actor or Actor.system("delete_group"))
    group.delete()
