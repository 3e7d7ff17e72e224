"""The customers a bulk job touched, behind a signed link (docs/events.md): bulk work emits one summary
event per job instead of one per customer, and that event's ``data.links.customers`` lists them.

The list is read from the event log when the link is opened: every event a job writes carries the
job as its request id (``job-<id>``, core.jobs.services.actor_of), so the customers are those of the
job's customer events, found through the log's time index within the job's run. Nothing is written
at the end of the job (a million-row import pays nothing for a list nobody may download). The link is
a credential as the file links are: signed, expiring after FILE_LINK_TTL_SECONDS.
"""

import time

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.http import JsonResponse, StreamingHttpResponse
from django.views.decorators.http import require_GET

from core.api.errors import error_body
from core.jobs.models import Job
from users.models import AuditEvent

SALT = "users.job_customers"
_kinds: set[str] = set()


def register_kind(kind: str) -> None:
    """A job kind whose jobs write customers one by one (imports, bulk attribute updates): their summary
    event links to the list."""
    _kinds.add(kind)


def writes_customers(job: Job) -> bool:
    return job.kind in _kinds


def request_id_of(job_id: str) -> str:
    return f"job-{job_id}"


def signed_link(job: Job) -> str:
    expires = int(time.time() + settings.FILE_LINK_TTL_SECONDS)
    token = signing.dumps({"j": job.pk, "e": expires}, salt=SALT)
    return f"{settings.PUBLIC_BASE_URL}/files/jobs/{token}/customers.csv"


def _job_of(token: str) -> Job | None:
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("j"), str) or not isinstance(data.get("e"), int):
        return None
    if data["e"] < time.time():
        return None
    return Job.objects.filter(pk=data["j"]).first()


_LIST = (f"COPY (SELECT customer_id, action AS type, to_char(created_at AT TIME ZONE 'UTC', "
         f"'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS occurred_at FROM {AuditEvent._meta.db_table} "
         "WHERE created_at >= %s AND created_at <= %s AND application_id = %s AND request_id = %s "
         "AND customer_id <> '' ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)")


def _rows(job: Job):
    """The CSV in blocks, straight from PostgreSQL's COPY (no list held in memory)."""
    until = job.finished_at or job.updated_at
    with connection.cursor() as cursor:
        with cursor.cursor.copy(_LIST, [job.created_at, until, job.application_id, request_id_of(job.pk)]) as copy:
            for block in copy:
                yield bytes(block)


@require_GET
@transaction.non_atomic_requests
def customers_csv(request, token):
    job = _job_of(token)
    if job is None:
        body = error_body("This link is not valid or has expired.", "link_invalid", request)
        return JsonResponse(body, status=404)
    response = StreamingHttpResponse(_rows(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="job-{job.pk}-customers.csv"'
    response["Cache-Control"] = "private, no-store"
    return response
