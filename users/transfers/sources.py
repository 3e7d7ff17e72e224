"""An import's input, made into one stored CSV in the job's folder, once.

The first run of a job fetches its file (``absolute_url``, once: ``core.jobs.stored_input``, or a file
already in storage: an admin upload, a command's file, or one of our own signed links), turns an
XLSX workbook into CSV, stores it as ``jobs/<application_id>/<job_id>/input.csv``, counts its rows,
and only then records ``payload["input"] = {"name", "rows"}``. A resumed run finds that record and
reads the very same rows; a run killed before it simply starts the preparation again.
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time

from django.conf import settings

from core import files, jobs
from core.files import csvrows as csvfiles
from core.api.errors import ServiceError, ValidationFailed
from core.jobs.models import Job

ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class ImportPayload:
    """The payload of a customer_import job: where its file is, and what the job recorded of it."""

    absolute_url: str | None = None  # the file's URL (bulkImportStoreFrontUsers)
    relative_url: str = ""  # the name the request gave it
    stored_file: str | None = None  # or the file already in storage: an upload, a command's file, our own link
    input_copy: str | None = None  # the complete download of absolute_url (jobs.stored_input)
    input: dict | None = None  # the prepared CSV, {"name", "rows"} (prepare)


def prepare(job: Job, payload: ImportPayload) -> tuple[str, int]:
    """(stored CSV name, number of data rows) of the job's input; fetched and converted on the first run."""
    ready = payload.input
    if ready and files.exists(ready["name"]):
        return ready["name"], ready["rows"]
    if payload.stored_file:
        name = files.job_file_name(job, "input.csv")
        with files.open_file(payload.stored_file) as source:
            _store_as_csv(source, job.file_format, name)
    elif payload.absolute_url:  # converted on its way into storage: the stored copy is the CSV
        name = jobs.stored_input(job, payload.absolute_url, field="absolute_url", name="input.csv",
                                 store=lambda stored, downloaded: _store_as_csv(downloaded, job.file_format, stored))
    else:
        raise ServiceError("the payload of this customer_import job names no file (absolute_url or stored_file).",
                           code="job_payload_invalid")
    rows = count_rows(name)
    job.payload = {**job.payload, "input": {"name": name, "rows": rows}}
    Job.objects.filter(pk=job.pk).update(payload=job.payload)
    return name, rows


def count_rows(name: str) -> int:
    """Data rows of a stored CSV; reading it all also refuses bad text or CSV before any row is applied."""
    with files.open_file(name) as stored, csvfiles.open_csv(stored, source="the file") as rows:
        return sum(1 for _ in rows)


def _store_as_csv(source, file_format: str, name: str) -> None:
    head = source.read(4)
    source.seek(0)
    if file_format == "csv":
        if head == ZIP_MAGIC:
            raise ValidationFailed("the file is an XLSX workbook (a ZIP archive), but file_format is csv.",
                                   code="wrong_file_format")
        files.save_file(name, source)
        return
    if head != ZIP_MAGIC or not zipfile.is_zipfile(source):
        raise ValidationFailed("the file is not an XLSX workbook, but file_format is xlsx.", code="wrong_file_format")
    source.seek(0)
    with tempfile.TemporaryFile() as spool:
        _xlsx_to_csv(source, spool)
        spool.seek(0)
        files.save_file(name, spool)


def cell_text(value) -> str:
    """A workbook cell as the text a CSV would hold: 9876543210.0 is "9876543210", a date "YYYY-MM-DD"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _xlsx_to_csv(source, spool) -> None:
    """The first worksheet as UTF-8 CSV, row for row (blank rows too, so row numbers stay the sheet's)."""
    from openpyxl import load_workbook  # here: 50 ms and 13 MB that only XLSX jobs need (not web processes)

    limit = settings.FILE_DOWNLOAD_MAX_BYTES
    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign archive
        raise ValidationFailed(f"the file is not a readable XLSX workbook ({type(exc).__name__}).",
                               code="wrong_file_format") from None
    try:
        if not workbook.worksheets:
            raise ValidationFailed("the workbook has no worksheet.")
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
        writer = csv.writer(text)
        try:
            for values in workbook.worksheets[0].iter_rows(values_only=True):
                writer.writerow([cell_text(v) for v in values])
                if spool.tell() > limit:
                    raise ValidationFailed(f"the workbook is larger than {limit} bytes once read.")
        except ValidationFailed:
            raise
        except Exception as exc:
            raise ValidationFailed(f"the file is not a readable XLSX workbook ({type(exc).__name__}).",
                                   code="wrong_file_format") from None
        text.flush()
        text.detach()
    finally:
        workbook.close()
