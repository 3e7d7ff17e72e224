"""The ``customer_export`` job: every live (non-archived) customer of the application, to CSV or XLSX.

- ``chunks`` pages through the customers in creation order by keyset (``(created_at, id)`` after the
  last one exported, on the ``customer_list_idx`` index) and streams each page with
  ``COPY (SELECT …) TO STDOUT`` into a part file ``parts/<page>.csv`` of the job's folder; the
  checkpoint is the key of the page's last customer, so a resumed job rewrites at most one part file.
  ``apply`` only counts the page (progress).
- ``finish`` joins the parts into the result: a CSV (a header and the parts, byte for byte), or an
  XLSX written by openpyxl in write-only mode, row by row. Neither ever holds the customers in memory.

One row per customer with the primary email and phone; the columns are the import's (an exported
file imports as it is), plus ``user_id``, ``active``, ``created_at`` and ``updated_at``.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core import files, jobs
from core.actors import Actor
from core.jobs.models import Job
from users.models import Customer, CustomerEmail, CustomerPhone
from users.transfers.formats import check_format

KIND = "customer_export"
ACTION_TYPE = "export"
HEADER = ("user_id", "first_name", "last_name", "email", "phone_number", "country_code", "gender", "dob", "username",
          "external_id", "rr_id", "meta", "active", "created_at", "updated_at")
XLSX_MAX_ROWS = 1_048_576  # per worksheet, header included; more customers continue on a next sheet
ISO_MS = "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'"

_COLUMNS = f"""
    c.id, c.first_name, c.last_name, e.email, p.phone, p.country_code, c.gender, c.dob, c.username, c.external_id,
    c.rr_id, NULLIF(c.meta::text, '{{}}'), CASE WHEN c.active THEN 'true' ELSE 'false' END,
    to_char(c.created_at AT TIME ZONE 'UTC', {ISO_MS}), to_char(c.updated_at AT TIME ZONE 'UTC', {ISO_MS})
"""
_FROM = f"""
    FROM {Customer._meta.db_table} c
    LEFT JOIN LATERAL (SELECT x.email FROM {CustomerEmail._meta.db_table} x WHERE x.customer_id = c.id
                       ORDER BY x."primary" DESC, x.id LIMIT 1) e ON true
    LEFT JOIN LATERAL (SELECT y.phone, y.country_code FROM {CustomerPhone._meta.db_table} y
                       WHERE y.customer_id = c.id ORDER BY y."primary" DESC, y.id LIMIT 1) p ON true
"""
_LIVE = "c.application_id = %s AND NOT c.archived"
_ORDER = "ORDER BY c.created_at, c.id"


def page_size() -> int:
    return settings.CUSTOMER_EXPORT_PAGE_SIZE


def start_export(application, actor: Actor, *, file_format, enqueue: bool = True) -> Job:
    """createBulkExportUsers: a pending export job (400 for a format other than csv / xlsx)."""
    file_format = check_format(file_format)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    return jobs.create_job(application, KIND, actor, file_format=file_format,
                           file_name=f"customers_{stamp}.{file_format}", enqueue=enqueue)


def live_customers(application_id: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT total - archived FROM users_applicationcustomercount WHERE application_id = %s",
                       [application_id])
        row = cursor.fetchone()
    return row[0] if row else 0


def part_name(job: Job, page: int) -> str:
    return files.job_file_name(job, f"parts/{page:06d}.csv")


def _page_end(application_id: str, after, size: int):
    """The key (created_at, id) of the last customer of the page after ``after``; None when fewer are left."""
    where, params = _after(after)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT c.created_at, c.id FROM {Customer._meta.db_table} c WHERE {_LIVE}{where} {_ORDER} "
                       "OFFSET %s LIMIT 1", [application_id, *params, size - 1])
        return cursor.fetchone()


def _after(after) -> tuple[str, list]:
    if after is None:
        return "", []
    return " AND (c.created_at, c.id) > (%s::timestamptz, %s)", list(after)


def copy_page(application_id: str, after, end, target) -> int:
    """COPY the customers after ``after`` up to ``end`` (included; None: to the last) as CSV rows into the
    binary file ``target``; returns how many."""
    where, params = _after(after)
    if end is not None:
        where += " AND (c.created_at, c.id) <= (%s::timestamptz, %s)"
        params += [end[0].isoformat(), end[1]]
    query = f"COPY (SELECT {_COLUMNS} {_FROM} WHERE {_LIVE}{where} {_ORDER}) TO STDOUT WITH (FORMAT csv)"
    with connection.cursor() as cursor:
        psycopg_cursor = cursor.cursor
        with psycopg_cursor.copy(query, [application_id, *params]) as copy:
            for block in copy:
                target.write(block)
        return psycopg_cursor.rowcount


@jobs.register(KIND)
class CustomerExport(jobs.JobHandler):
    """No payload (the job's file_format and file_name say it all). Checkpoint ``{"page": n, "after":
    [created_at, id], "rows": exported so far}``."""

    action_type = ACTION_TYPE
    Payload = jobs.NoPayload

    def chunks(self, job, checkpoint):
        state = checkpoint or {"page": 0, "after": None, "rows": 0}
        if not job.total:
            job.total = live_customers(job.application_id)
        size = page_size()
        while True:
            end = _page_end(job.application_id, state["after"], size)
            page = state["page"] + 1
            with tempfile.TemporaryFile() as spool:
                count = copy_page(job.application_id, state["after"], end, spool)
                spool.seek(0)
                files.save_file(part_name(job, page), spool)
            state = {"page": page, "after": [end[0].isoformat(), end[1]] if end else None,
                     "rows": state["rows"] + count}
            if end is None:
                job.total = state["rows"]  # the last page: the exact number exported
            yield count, state
            if end is None:
                return

    def apply(self, job, count):
        return jobs.ChunkResult(count, [])

    def finish(self, job):
        pages = (job.checkpoint or {}).get("page", 0)
        parts = [part_name(job, page) for page in range(1, pages + 1)]
        name = files.job_file_name(job, job.file_name or f"customers.{job.file_format}")
        with tempfile.TemporaryFile() as spool:
            if job.file_format == "xlsx":
                write_xlsx(parts, spool)
            else:
                write_csv(parts, spool)
            spool.seek(0)
            job.result_file = files.save_file(name, spool)
        # The parts stay until the job is completed for good (finish may run again after a crash).
        transaction.on_commit(lambda: [files.delete_file(part) for part in parts], robust=True)


def write_csv(parts: list[str], target) -> None:
    target.write((",".join(HEADER) + "\r\n").encode())
    for part in parts:
        with files.open_file(part) as handle:
            shutil.copyfileobj(handle, target, 1024 * 1024)


def _xlsx_rows(parts: list[str]):
    for part in parts:
        with files.open_file(part) as handle:
            text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
            yield from csv.reader(text)


def write_xlsx(parts: list[str], target) -> None:
    """openpyxl write-only (rows streamed to disk). Every text is a text cell: a name such as "=1+1" is
    never a formula. country_code is a number, active a boolean."""
    from openpyxl import Workbook  # here: 50 ms and 13 MB that only XLSX jobs need (not web processes)
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet, rows_in_sheet, sheets = None, XLSX_MAX_ROWS, 0
    country, active = HEADER.index("country_code"), HEADER.index("active")
    for values in _xlsx_rows(parts):
        if rows_in_sheet >= XLSX_MAX_ROWS:
            sheets += 1
            sheet = workbook.create_sheet("customers" if sheets == 1 else f"customers {sheets}")
            sheet.append(HEADER)
            rows_in_sheet = 1
        values[country] = int(values[country]) if values[country] else None
        values[active] = values[active] == "true"
        for index, value in enumerate(values):
            if value == "":
                values[index] = None  # no cell at all: much cheaper than an empty one
            elif isinstance(value, str) and value.startswith("="):
                cell = WriteOnlyCell(sheet, value)
                cell.data_type = "s"
                values[index] = cell
        sheet.append(values)
        rows_in_sheet += 1
    if sheet is None:
        workbook.create_sheet("customers").append(HEADER)
    workbook.save(target)
