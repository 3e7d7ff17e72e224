"""Files the service writes (error reports, exports, admin uploads) and links to download them.

Files live in Django's default storage under names such as ``jobs/<application_id>/<job_id>/errors.csv``:
the filesystem (``MEDIA_ROOT``, var/media unless set; a volume shared by every machine) or an
S3-compatible bucket (``FILE_STORAGE=s3``, core/files/s3.py; docs/storage.md). Only these functions touch
it, by name, never by a local path. Nothing serves the store directly: a download link is
``/files/<token>``; the token signs the file name and an expiry (``FILE_LINK_TTL_SECONDS`` from issue)
with SECRET_KEY, so it works for anyone holding it until it expires, on any machine that shares the
store and the key, and for nothing else.
"""

import csv
import io
import tempfile
import time
from pathlib import PurePosixPath

from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from core.api.errors import NotFound, ServiceError

LINK_SALT = "core.files.link"


class LinkRefused(ServiceError):
    status_code = 403
    code = "invalid_link"


def job_file_name(job, filename: str) -> str:
    """Where a job's files go: one folder per job, so names never collide and re-runs overwrite."""
    return f"jobs/{job.application_id}/{job.pk}/{filename}"


def save_file(name: str, content) -> str:
    """Store ``content`` (bytes or a binary file object, read from where it is) as ``name``, replacing a
    file of that name."""
    if not getattr(default_storage, "file_overwrite", False) and default_storage.exists(name):
        default_storage.delete(name)
    content = ContentFile(content) if isinstance(content, bytes) else File(content)
    return default_storage.save(name, content)


def write_csv(name: str, header, rows) -> str:
    """Store a UTF-8 CSV built from ``rows`` (any iterable) as ``name``; spooled, never all in memory."""
    with tempfile.TemporaryFile() as spool:
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
        writer = csv.writer(text)
        writer.writerow(header)
        writer.writerows(rows)
        text.flush()
        text.detach()  # keep the binary spool open for the storage
        spool.seek(0)
        return save_file(name, spool)


def exists(name: str) -> bool:
    return bool(name) and default_storage.exists(name)


def open_file(name: str):
    """The stored file opened for binary reading (seekable; from object storage, a local copy made at the
    first read); NotFound if it is gone."""
    if not name or not default_storage.exists(name):
        raise NotFound("This file no longer exists.", code="file_not_found")
    return default_storage.open(name, "rb")


def open_stream(name: str):
    """The stored file for one read from start to end, as a download sends it: (binary file object, size).
    From object storage the body comes as it is read, never copied first; NotFound if it is gone."""
    opener = getattr(default_storage, "open_stream", None)
    if opener is None:
        handle = open_file(name)
        return handle, handle.size
    try:
        stream = opener(name) if name else None
    except FileNotFoundError:
        stream = None
    if stream is None:
        raise NotFound("This file no longer exists.", code="file_not_found")
    return stream, stream.size


def delete_file(name: str) -> None:
    if name:
        default_storage.delete(name)


def signed_path(name: str, *, ttl: float | None = None) -> str:
    """``/files/<token>`` for ``name``, valid ``ttl`` seconds (FILE_LINK_TTL_SECONDS by default)."""
    expires = int(time.time() + (settings.FILE_LINK_TTL_SECONDS if ttl is None else ttl))
    token = signing.dumps({"n": name, "e": expires}, salt=LINK_SALT, compress=True)
    return reverse("file-download", args=[token])


def signed_url(name: str, request=None, *, ttl: float | None = None) -> str:
    """The absolute link: on the request's host when there is one, else on PUBLIC_BASE_URL."""
    path = signed_path(name, ttl=ttl)
    return request.build_absolute_uri(path) if request is not None else settings.PUBLIC_BASE_URL + path


def name_from_token(token: str) -> str:
    """The file name a link's token signs; LinkRefused if it was tampered with or has expired."""
    try:
        data = signing.loads(token, salt=LINK_SALT)
    except signing.BadSignature:
        raise LinkRefused("This download link is not valid.") from None
    if not isinstance(data, dict) or not isinstance(data.get("n"), str) or not isinstance(data.get("e"), int):
        raise LinkRefused("This download link is not valid.")
    if data["e"] < time.time():
        raise LinkRefused("This download link has expired; ask for a new one.", code="link_expired")
    return data["n"]


def download_name(name: str) -> str:
    return PurePosixPath(name).name


def name_in_url(url: str) -> str:
    """The file name a URL ends with (no query, no fragment), as jobs show it; "" for none."""
    return download_name(url.split("?", 1)[0].split("#", 1)[0].rstrip("/"))[:200] if url else ""
