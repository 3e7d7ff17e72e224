"""Membership changes of bulk groups: the ``group_file`` job, for CSV files and JSON ``user_data`` alike.

One job is one change of one group, applied set-based in ONE transaction (a single chunk for the
runner, core/jobs/): a worker killed at any moment leaves the previous membership untouched, and the
retry redoes the whole file from the stored copy. Readers keep seeing the previous membership until
the transaction commits (MVCC), so a group stays usable while a new file is processed.

The steps (docs/groups.md, "Processing"):

1. ``chunks``: a file is downloaded once, with the guarded downloader, into the job's folder
   (``jobs/<app>/<job>/download.csv``: ``core.jobs.stored_input``); an admin upload is already stored. A
   resumed job reads that copy.
2. ``apply``, in the runner's transaction:
   a. the group row is locked FOR KEY SHARE (it cannot be deleted meanwhile; edits still go through);
   b. the rows stream into a temporary staging table with ``COPY``: per row its number, which column
      names the customer (user_id, else email, else phone_number), the lookup key (the lower-cased id;
      the email and the phone as users.contacts stores them: normalised address, E.164) and the action;
      malformed rows carry their error;
   c. keys become customers with one hash join per kind: ``users_customer`` (live), the live emails,
      the live phones (``e164``);
   d. rows that failed or matched nobody go to ``core_joberror`` with one ``INSERT … SELECT`` (the
      runner writes the error CSV from them when the job completes);
   e. the membership changes with one ``DELETE`` and one ``INSERT … SELECT … ON CONFLICT DO NOTHING``:
      a *replace* (create / PUT) removes who is not in the file and adds who is missing; a *patch*
      applies each customer's last ``add`` / ``remove``. Statement triggers keep the member count.
   f. ``ANALYZE`` of the membership table after a large change, so that the planner knows the new
      group's size at once (docs/groups.md, "Reading the members").

Nothing here loops over rows in the database: Python only parses the CSV and feeds COPY.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone

from core import files, jobs
from core.api.errors import ServiceError, ValidationFailed
from core.files import csvrows
from groups.models import Membership, UserGroup
from users import contacts

logger = logging.getLogger(__name__)

KIND = "group_file"
REPLACE = "replace"  # the file / JSON is the whole membership (createUserGroup, updateUserGroup)
PATCH = "patch"  # each row adds or removes one customer (updateUserGroupPartially)
ADD, REMOVE = "add", "remove"

USER_ID_COLUMNS = ("user_id", "_id", "id", "userid")
EMAIL_COLUMNS = ("email", "email_id", "email_address")
PHONE_COLUMNS = ("phone_number", "phone", "mobile", "mobile_number", "phone_no")
ACTION_COLUMN = "action"

ANALYZE_AFTER_ROWS = 10_000  # membership rows changed by one job before the table is analysed at once

_OBJECT_ID = re.compile(r"[0-9a-f]{24}")

_MEMBERSHIP = Membership._meta.db_table
_GROUPS = UserGroup._meta.db_table


class Columns:
    """Which CSV columns hold the user id, email, phone and action (case-insensitive names)."""

    def __init__(self, header: list[str], mode: str):
        lowered = {name.strip().lower(): name for name in header if name}

        def find(candidates):
            return next((lowered[c] for c in candidates if c in lowered), None)

        self.user_id, self.email, self.phone = find(USER_ID_COLUMNS), find(EMAIL_COLUMNS), find(PHONE_COLUMNS)
        self.action = find((ACTION_COLUMN,))
        if not (self.user_id or self.email or self.phone):
            raise ValidationFailed(
                "the file has none of the columns user_id, email or phone_number "
                f"(its columns: {', '.join(header)[:200] or 'none'}).", code="group_file_invalid")
        if mode == PATCH and not self.action:
            raise ValidationFailed("the file has no action column (add or remove), which updateUserGroupPartially "
                                   "needs.", code="group_file_invalid")


@dataclass
class Stager:
    """Turns one input row into a staging row: (row_number, kind, ref, key, action, error)."""

    mode: str
    country_code: int  # of phone numbers written without +CC
    removes: int = 0

    def row(self, row_number: int, user_id: str, email: str, phone: str, action: str | None) -> tuple:
        """The values come stripped (core.files.csvrows, the user_data serializer)."""
        error = None
        if action:
            action = action.lower()
            if action not in (ADD, REMOVE):
                error = "action must be add or remove"
        elif self.mode == PATCH:
            error = "action is required: add or remove"
        else:
            action = ADD
        if action == REMOVE:
            self.removes += 1
        if user_id:
            kind, ref, key = "user_id", user_id, user_id.lower()
            if not _OBJECT_ID.fullmatch(key):
                error = "user_id must be 24 hexadecimal characters"
        elif email:
            kind, ref = "email", email
            if "@" not in email or len(email) > 254:
                key, error = None, "email is not an email address"
            else:  # an address no customer can have matches nobody
                key = contacts.email_or_none(email)
        elif phone:
            kind, ref = "phone_number", phone
            if not contacts.written_as_phone(phone):
                key, error = None, "phone_number is not a phone number"
            else:  # an invalid number matches nobody
                key = contacts.e164_or_none(phone, self.country_code)
        else:
            kind, ref, key = "", "", None
            error = "the row names no customer: give user_id, email or phone_number"
        return row_number, kind, ref[:500], key if error is None else None, action if not error else None, error


# ----------------------------------------------------------------------------- reading the input

SOURCE = "the group file"


def file_rows(name: str, mode: str, stager: Stager):
    """The staging rows of a stored CSV file (ValidationFailed for a file that cannot be read)."""
    with files.open_file(name) as stored, csvrows.open_csv(stored, source=SOURCE) as rows:
        columns = Columns(rows.header, mode)
        stage = stager.row
        for row_number, (user_id, email, phone, action) in rows.select(columns.user_id, columns.email, columns.phone,
                                                                       columns.action):
            yield stage(row_number, user_id, email, phone, action if columns.action else None)


def json_rows(user_data: list, stager: Stager):
    """The staging rows of a validated ``user_data`` list (row numbers count items from 1)."""
    for number, item in enumerate(user_data, start=1):
        yield stager.row(number, item.get("user_id") or "", item.get("email") or "", item.get("phone_number") or "",
                         item.get("action") or "")


def check_file(name: str, mode: str) -> None:
    """Fail early (before the transaction) for a file that is not CSV or lacks the needed columns."""
    with files.open_file(name) as stored, csvrows.open_csv(stored, source=SOURCE) as rows:
        Columns(rows.header, mode)


# ----------------------------------------------------------------------------- the job

@dataclass(frozen=True)
class GroupFilePayload:
    """The payload of a group_file job: one change of one group, from a file or from JSON."""

    group_id: str
    mode: str  # REPLACE or PATCH
    source: str  # "file" or "json"
    file_url: str | None = None  # a file by URL (fetched once: input_copy) ...
    input_file: str | None = None  # ... or already in storage: an upload, a command's file (jobs.store_job_input)
    input_copy: str | None = None  # the complete download of file_url (jobs.stored_input)
    user_data: list | None = None  # source "json": the validated user_data items


@jobs.register(KIND)
class GroupMembershipJob(jobs.JobHandler):
    """One chunk; its checkpoint {"done": true} marks the change as committed."""

    action_type = "user_group"
    Payload = GroupFilePayload

    def chunks(self, job, checkpoint):
        if checkpoint:  # committed already (killed between the chunk and the end): nothing left
            return
        payload = self.payload(job)
        if payload.source == "file":
            name = payload.input_file or jobs.stored_input(
                job, payload.file_url, field="file_url", name="download.csv", legacy_name="input.csv")
            check_file(name, payload.mode)
            yield [{"source": "file", "name": name}], {"done": True}
        else:
            yield [{"source": "json"}], {"done": True}

    def apply(self, job, rows):
        (source,) = rows
        payload = self.payload(job)
        stager = Stager(payload.mode, settings.DEFAULT_PHONE_COUNTRY_CODE)
        if source["source"] == "file":
            staged = file_rows(source["name"], payload.mode, stager)
        else:
            staged = json_rows(payload.user_data or [], stager)
        result = apply_rows(job, payload.group_id, payload.mode, staged, stager)
        # The runner counts rows from the returned errors; ours were written set-based (no list of a
        # million errors in memory), so count them here: processed = applied + rejected.
        job.total = result.total
        job.error_count += result.errors
        job.processed += result.errors
        return jobs.ChunkResult(result.total - result.errors, [])


def payload_of(job) -> GroupFilePayload:
    """The payload of a group_file job, typed (for the services and commands that look at past jobs)."""
    return jobs.handler_for(KIND).payload(job)


@dataclass
class Applied:
    total: int
    errors: int
    added: int
    removed: int


def apply_rows(job, group_id: str, mode: str, staged, stager: Stager) -> Applied:
    """Steps 2a–2f of the module docstring, in the caller's transaction."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT job_id, application_id FROM {_GROUPS} WHERE id = %s FOR KEY SHARE", [group_id])
        found = cursor.fetchone()
        if found is None:
            raise ServiceError("the group no longer exists.", code="group_not_found")
        if found[0] != job.pk:
            raise ServiceError("another change of the group replaced this one.", code="group_job_superseded")
        application_id = found[1]
        # sorts and hashes of a million rows in memory, for this transaction only
        cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.GROUP_WORK_MEM])
        steps = _Steps()
        _stage(cursor, staged)
        steps.done("staged")
        _resolve(cursor, application_id)
        steps.done("resolved")
        total, errors = _record_errors(cursor, job.pk, application_id)
        steps.done("errors")
        removed, added = _change_membership(cursor, group_id, mode, with_removes=stager.removes > 0, steps=steps)
        if added + removed >= ANALYZE_AFTER_ROWS:
            cursor.execute(f"ANALYZE {_MEMBERSHIP}")
            steps.done("analyzed")
        now = timezone.now()
        cursor.execute(f"UPDATE {_GROUPS} SET status = %s, processed_at = %s, modified_at = %s WHERE id = %s",
                       [UserGroup.ACTIVE, now, now, group_id])
        cursor.execute("DROP TABLE group_rows, group_found")
    logger.info("group_file job %s (group %s, %s): %d rows, %d rejected, %d added, %d removed; %s", job.pk, group_id,
                mode, total, errors, added, removed, steps)
    return Applied(total, errors, added, removed)


class _Steps:
    """Seconds per step, for the log line of each change (what `make bench` and operators look at)."""

    def __init__(self):
        self.started = self.last = time.perf_counter()
        self.seconds: list[tuple[str, float]] = []

    def done(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds.append((name, now - self.last))
        self.last = now

    def __str__(self):
        return ", ".join(f"{name} {seconds:.2f} s" for name, seconds in self.seconds) + \
            f" (total {self.last - self.started:.2f} s)"


def _stage(cursor, staged) -> None:
    cursor.execute("DROP TABLE IF EXISTS pg_temp.group_rows, pg_temp.group_found")
    cursor.execute("CREATE TEMP TABLE group_rows (row_number integer NOT NULL, kind text NOT NULL, ref text NOT NULL, "
                   "key text, action text, error text) ON COMMIT DROP")
    with cursor.cursor.copy("COPY group_rows (row_number, kind, ref, key, action, error) FROM STDIN") as copy:
        write = copy.write_row
        for row in staged:
            write(row)
    cursor.execute("ANALYZE group_rows")  # the planner must know it holds a million rows, not a thousand


def _resolve(cursor, application_id: str) -> None:
    cursor.execute("CREATE TEMP TABLE group_found (row_number integer NOT NULL, customer_id varchar(24) NOT NULL, "
                   "action text NOT NULL) ON COMMIT DROP")
    app = {"app": application_id}
    cursor.execute("INSERT INTO group_found SELECT r.row_number, c.id, r.action FROM group_rows r "
                   "JOIN users_customer c ON c.id = r.key "
                   "WHERE r.kind = 'user_id' AND r.error IS NULL AND c.application_id = %(app)s "
                   "AND NOT c.archived", app)
    cursor.execute("INSERT INTO group_found SELECT r.row_number, e.customer_id, r.action FROM group_rows r "
                   "JOIN users_customeremail e ON e.email = r.key "
                   "WHERE r.kind = 'email' AND r.error IS NULL AND e.application_id = %(app)s AND e.is_live", app)
    cursor.execute("INSERT INTO group_found SELECT r.row_number, p.customer_id, r.action FROM group_rows r "
                   "JOIN users_customerphone p ON p.e164 = r.key "
                   "WHERE r.kind = 'phone_number' AND r.error IS NULL AND p.application_id = %(app)s "
                   "AND p.is_live", app)
    cursor.execute("ANALYZE group_found")


def _record_errors(cursor, job_id: str, application_id: str) -> tuple[int, int]:
    """(rows, rejected rows): the rejected ones are written to core_joberror."""
    cursor.execute(
        "INSERT INTO core_joberror (job_id, row_number, reference, message) "
        "SELECT %(job)s, r.row_number, left(r.ref, 255), coalesce(r.error, CASE "
        "  WHEN r.kind = 'user_id' AND EXISTS (SELECT FROM users_customer c WHERE c.id = r.key "
        "       AND c.application_id = %(app)s AND c.archived) THEN 'the customer with this user_id is archived' "
        "  ELSE 'no customer of the application has this ' || r.kind END) "
        "FROM group_rows r WHERE r.error IS NOT NULL "
        "OR NOT EXISTS (SELECT FROM group_found f WHERE f.row_number = r.row_number)",
        {"job": job_id, "app": application_id})
    errors = cursor.rowcount
    cursor.execute("SELECT count(*) FROM group_rows")
    return cursor.fetchone()[0], errors


def _change_membership(cursor, group_id: str, mode: str, *, with_removes: bool, steps: _Steps) -> tuple[int, int]:
    """(removed, added). ``wanted``: each customer once with their final action (the last row wins)."""
    if with_removes:
        cursor.execute("CREATE TEMP TABLE group_final ON COMMIT DROP AS SELECT DISTINCT ON (customer_id) customer_id, "
                       "action FROM group_found ORDER BY customer_id, row_number DESC")
        cursor.execute("ANALYZE group_final")
        wanted, to_add = "group_final", "SELECT customer_id FROM group_final WHERE action = 'add'"
    else:  # only adds: no need to order the rows
        wanted, to_add = None, "SELECT DISTINCT customer_id FROM group_found"
    g = {"group": group_id}
    if mode == REPLACE:  # who is not (or no longer) wanted leaves
        keep = "f.action = 'add'" if wanted else "true"
        cursor.execute(f"DELETE FROM {_MEMBERSHIP} m WHERE m.group_id = %(group)s AND NOT EXISTS "
                       f"(SELECT FROM {wanted or 'group_found'} f WHERE f.customer_id = m.customer_id AND {keep})", g)
        removed = cursor.rowcount
        steps.done("deleted")
    elif wanted:
        cursor.execute(f"DELETE FROM {_MEMBERSHIP} m USING group_final f WHERE m.group_id = %(group)s "
                       "AND m.customer_id = f.customer_id AND f.action = 'remove'", g)
        removed = cursor.rowcount
    else:
        removed = 0
    cursor.execute(f"INSERT INTO {_MEMBERSHIP} (group_id, customer_id) "
                   f"SELECT %(group)s::varchar, a.customer_id FROM ({to_add}) a WHERE NOT EXISTS "
                   f"(SELECT FROM {_MEMBERSHIP} m WHERE m.group_id = %(group)s AND m.customer_id = a.customer_id) "
                   "ORDER BY a.customer_id ON CONFLICT DO NOTHING", g)
    added = cursor.rowcount
    steps.done("inserted")
    if wanted:
        cursor.execute("DROP TABLE group_final")
    return removed, added
