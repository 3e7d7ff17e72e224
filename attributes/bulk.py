"""Bulk attribute updates: the same attributes for many customers (``bulk_update``), or different ones
per customer (``bulk_update/per_user``). Attributes are named by definition slug (``key``).

Small requests (at most ATTRIBUTE_BULK_SYNC_LIMIT customers, no file) run in the request and answer
the seed's BulkOperation with ``processing_type: "synchronous"``. Larger ones and every
``user_file_url`` become a job (kind ``attribute_bulk_update``, core/jobs/) that a Celery worker
runs in chunks; the answer is ``processing_type: "asynchronous"`` with the ``job_id`` to follow at
``…/users/jobs/{job_id}``. Sync and async run the same ``apply_items``: per customer all of their
attributes or none, per customer an error naming what is wrong (unknown customer, archived customer,
unknown slug, invalid value). Files are downloaded once with the guarded downloader into the job's
folder, so a resumed job reads exactly the same rows.

Each chunk is written set-based (attributes/bulk_writes.py: COPY into staging tables, one upsert, the
index rows and audit events by INSERT … SELECT), ATTRIBUTE_BULK_CHUNK_SIZE customers per transaction.
Why chunks with a checkpoint rather than one transaction per job: a chunk holds its row locks (and the
definitions' FOR KEY SHARE) for a fraction of a second, so API writes to the same customers and
definition changes wait at most that long; progress shows as chunks commit; a worker killed mid-job
redoes one chunk, not the whole file; and the transaction's size (WAL, dead rows on rollback, temp
tables) stays bounded whatever the file's length. The price is that a job is not all-or-nothing: a
failed job keeps the chunks it committed, which the counters and the error file report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Lower

from attributes import services
from attributes.bulk_writes import Item, write_items
from attributes.models import AttributeDefinition
from attributes.schema import BulkOperation
from attributes.selectors import definitions_by_id
from attributes.serializers import BulkAttributesSerializer, checked
from core import files, jobs
from core.actors import Actor
from core.files import csvrows as csvfiles
from core.files import downloads
from core.api.errors import ValidationFailed
from core.jobs.presenters import job_dict

KIND = "attribute_bulk_update"
USER_ID_COLUMNS = ("user_id", "_id", "id")


def chunk_size() -> int:
    return settings.ATTRIBUTE_BULK_CHUNK_SIZE


@dataclass(frozen=True)
class BulkUpdatePayload:
    """A parsed bulk_update request: run at once, or stored as its job's payload."""

    mode: str  # "same" (bulk_update) or "per_user" (bulk_update/per_user)
    attributes: list | None = None  # same: the checked [slug, value] pairs every customer gets
    users: list | None = None  # same: the user ids, each once ...
    user_file_url: str | None = None  # ... or a CSV of them by URL (fetched once: input_copy) ...
    input_file: str | None = None  # ... or already in storage (manage.py bulk_update_attributes)
    input_copy: str | None = None  # the complete download of user_file_url (jobs.stored_input)
    items: list | None = None  # per_user: [user_id, [[slug, value], …]] per customer


# ----------------------------------------------------------------------------- requests

def definitions_by_slug(application, slugs, *, lock: bool = False) -> dict[str, AttributeDefinition]:
    """The application's definitions with these slugs (case-insensitive), keyed by lower-cased slug;
    with ``lock``, held FOR KEY SHARE as value writes do."""
    lowered = {s.lower() for s in slugs}
    found = AttributeDefinition.objects.annotate(slug_lower=Lower("slug")).filter(
        application=application, slug_lower__in=lowered)
    by_slug = {d.slug.lower(): d for d in found}
    if lock and by_slug:
        locked = definitions_by_id(application, [d.id for d in by_slug.values()], lock="share")
        by_slug = {slug: locked[d.id] for slug, d in by_slug.items() if d.id in locked}
    return by_slug


def checked_attributes(application, pairs: list[dict]) -> list[list]:
    """The ``attribute`` pairs of a bulk_update (serializers.BulkAttributesSerializer) as [key, value];
    400 before anything runs unless every slug is known and every value valid (the same value goes to
    everyone)."""
    definitions = definitions_by_slug(application, [pair["key"] for pair in pairs])
    for i, pair in enumerate(pairs):
        definition = definitions.get(pair["key"].lower())
        if definition is None:
            raise ValidationFailed(f"attribute[{i}].key: no attribute definition with slug {pair['key']!r} in this "
                                   "application.", code="unknown_definition")
        services.validate_value(definition, pair["value"])
    return [[pair["key"], pair["value"]] for pair in pairs]


def attributes_from_text(application, assignments: list[str]) -> list[dict]:
    """``slug=value`` assignments (the command line) as the ``attribute`` pairs of a bulk_update: the
    value is JSON text (10, true, ["a","b"]) or, for a single string attribute or when it is not JSON,
    the text itself."""
    pairs = []
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        if not sep or not key.strip():
            raise ValidationFailed(f"{assignment!r}: write slug=value.")
        definition = definitions_by_slug(application, [key.strip()]).get(key.strip().lower())
        value = text
        if definition is not None and (definition.type != "string" or definition.multi_value):
            try:
                value = json.loads(text)
            except ValueError:
                pass
        pairs.append({"key": key.strip(), "value": value})
    return checked(BulkAttributesSerializer, {"attribute": pairs})["attribute"]


def same_payload(application, data: dict) -> BulkUpdatePayload:
    """The payload of a bulk_update (serializers.BulkUpdateSerializer)."""
    attributes = checked_attributes(application, data["attribute"])
    if data.get("user_file_url"):
        downloads.vet_url(data["user_file_url"], field="user_file_url")  # refuse private / malformed URLs at once
        return BulkUpdatePayload("same", attributes, user_file_url=data["user_file_url"])
    # each customer once, in the order given
    return BulkUpdatePayload("same", attributes, users=list(dict.fromkeys(data["users"])))


def per_user_payload(data: dict) -> BulkUpdatePayload:
    """The payload of a bulk_update/per_user (serializers.BulkUpdatePerUserSerializer)."""
    return BulkUpdatePayload("per_user", items=[[detail["user_id"], [[pair["key"], pair["value"]]
                                                                     for pair in detail["attributes"]]]
                                                for detail in data["user_detail_attributes"]])


# ----------------------------------------------------------------------------- applying

def apply_items(application, items: list[Item], actor: Actor, *, same: bool = False) -> jobs.ChunkResult:
    """Write each customer's attributes (all of them or none); run inside a transaction. ``same``: every
    item carries the same pairs (bulk_update), checked once and written from one template."""
    definitions = definitions_by_slug(application, {k for item in items[:1 if same else None]
                                                    for k, _ in item.attributes}, lock=True)
    return jobs.ChunkResult(*write_items(application, items, definitions, actor, same=same))


def _bulk_operation(total: int, result: jobs.ChunkResult) -> BulkOperation:
    summary: dict[str, int] = {}
    for error in result.errors:
        summary[error.message] = summary.get(error.message, 0) + 1
    return {"success": not result.errors, "total": total, "processed": result.success,
            "errors_count": len(result.errors),
            "errors": [{"user_id": e.reference, "error": e.message} for e in result.errors],
            "processing_type": "synchronous", "error_summary": summary}


def _items_of(payload: BulkUpdatePayload, user_ids=None, start: int = 0) -> list[Item]:
    if payload.mode == "per_user":
        return [Item(start + i + 1, user_id, [tuple(p) for p in pairs])
                for i, (user_id, pairs) in enumerate(payload.items[start:start + chunk_size()])]
    pairs = [tuple(p) for p in payload.attributes]
    return [Item(start + i + 1, user_id, pairs) for i, user_id in enumerate(user_ids[start:start + chunk_size()])]


def bulk_update(application, payload: BulkUpdatePayload, actor: Actor, request=None) -> BulkOperation:
    """Run a parsed request now (small) or as a job (large or a file); the BulkOperation answer."""
    count = len(payload.items or payload.users or [])
    if not payload.user_file_url and count <= settings.ATTRIBUTE_BULK_SYNC_LIMIT:
        with transaction.atomic():
            items = [item for start in range(0, count, chunk_size())
                     for item in _items_of(payload, payload.users, start)]
            return _bulk_operation(count, apply_items(application, items, actor, same=payload.mode == "same"))
    job = jobs.create_job(application, KIND, actor, payload=jobs.payload_dict(payload), total=count,
                          file_name=files.name_in_url(payload.user_file_url or ""), file_format="csv")
    return {"success": True, "total": count, "processed": 0, "errors_count": 0, "errors": [],
            "processing_type": "asynchronous", "error_summary": {}, "job_id": job.id,
            "job": job_dict(job, request)}


# ----------------------------------------------------------------------------- the job

@jobs.register(KIND)
class AttributeBulkUpdate(jobs.JobHandler):
    """Chunks of ATTRIBUTE_BULK_CHUNK_SIZE customers; the checkpoint counts customers (or CSV records) done."""

    action_type = "attribute_bulk_update"
    Payload = BulkUpdatePayload

    def chunks(self, job, checkpoint):
        done = (checkpoint or {}).get("done", 0)
        payload = self.payload(job)
        if payload.user_file_url or payload.input_file:
            yield from self._file_chunks(job, payload, done)
            return
        total = len(payload.items or payload.users or [])
        job.total = total
        for start in range(done, total, chunk_size()):
            yield _items_of(payload, payload.users, start), {"done": min(total, start + chunk_size())}

    def _file_chunks(self, job, payload: BulkUpdatePayload, done: int):
        name = payload.input_file or jobs.stored_input(
            job, payload.user_file_url, field="user_file_url", name="download.csv", legacy_name="users.csv")
        job.total = sum(1 for _ in self._rows(name))
        pairs = [tuple(p) for p in payload.attributes]
        batch = []
        for seen, (row_number, user_id) in enumerate(self._rows(name), start=1):
            if seen <= done:
                continue
            batch.append(Item(row_number, user_id, pairs))
            if len(batch) == chunk_size() or seen == job.total:
                yield batch, {"done": seen}
                batch = []

    @staticmethod
    def _rows(name: str):
        with files.open_file(name) as stored, csvfiles.open_csv(stored, source="the user file") as rows:
            column = next((c for c in USER_ID_COLUMNS if c in rows.header), None)
            if column is None:
                raise ValidationFailed("the user file has no user_id column "
                                       f"(columns: {', '.join(rows.header)[:200]}).")
            for row_number, (user_id,) in rows.select(column):
                yield row_number, user_id

    def apply(self, job, items):
        return apply_items(job.application, items, jobs.actor_of(job), same=self.payload(job).mode == "same")
