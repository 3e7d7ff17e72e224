"""S3-compatible object storage for the service's files (``FILE_STORAGE=s3``, docs/storage.md).

django-storages' ``S3Storage`` with what the service needs on top:

- private objects (no ACL sent: objects are private unless a bucket policy says otherwise; ``S3_ACL`` sets
  one), no presigned URLs (downloads go through the service's signed ``/files/`` links), a file of the
  same name replaced (each job writes under fixed names);
- ``open_stream(name)``: the object's body straight from the store, read as it is sent. ``open()``
  (``S3File``) downloads the whole object into a temporary file before the first byte (kept in memory
  up to ``max_memory_size``, on disk above): right for the jobs, which read their files in order or seek in
  them, but a download link would make its client wait for the whole copy;
- uploads as multipart uploads from the spooled file, a few parts in memory at a time (``TRANSFER``);
- requests retried with backoff (botocore's "standard" mode, 5 attempts) when the store blips;
- fork-safe: a process forked after the storage was used (the import's row reader, a Celery or gunicorn
  child) opens connections of its own instead of sharing its parent's sockets.
"""

import os
import threading

from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

MB = 1024 * 1024
# Multipart above 8 MB, in 8 MB parts, one at a time in the caller's thread: one part of an upload in memory
# (4 threads held ~100 MB more at the peak of a 1,000,000-row export, past the jobs' memory target); a
# download into a file queues at most 64 chunks of 256 KB for writing.
TRANSFER = TransferConfig(multipart_threshold=8 * MB, multipart_chunksize=8 * MB, max_concurrency=1, use_threads=False)
TRANSFER.max_in_memory_upload_chunks = 1  # s3transfer's own settings, not arguments of boto3's TransferConfig
TRANSFER.max_in_memory_download_chunks = 64


class ObjectStream:
    """The body of one stored object, read from the network as it is read here (FileResponse's file)."""

    def __init__(self, name: str, body, size: int):
        self.name = name
        self.size = size
        self._body = body

    def read(self, size: int = -1) -> bytes:
        return self._body.read(None if size is None or size < 0 else size)

    def close(self) -> None:
        self._body.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class ObjectStorage(S3Storage):
    def __init__(self, **settings):
        super().__init__(**settings)
        # a store that blips (a reset connection, a 503 SlowDown) is retried with backoff before a job fails
        self.client_config = self.client_config.merge(Config(
            retries={"mode": "standard", "max_attempts": 5}, connect_timeout=10, read_timeout=60))

    def get_default_settings(self):
        return {**super().get_default_settings(), "default_acl": None, "querystring_auth": False,
                "file_overwrite": True, "max_memory_size": 2 * MB, "transfer_config": TRANSFER}

    @property
    def connection(self):
        if getattr(self, "_pid", None) != os.getpid():  # a forked child: its own connections
            self._connections = threading.local()
            self._bucket = None
            self._pid = os.getpid()
        return super().connection

    @property
    def bucket(self):
        self.connection  # noqa: B018 (resets the bucket of a forked child)
        return super().bucket

    def open_stream(self, name: str) -> ObjectStream:
        """The object's body as a stream (FileNotFoundError if it is gone)."""
        from botocore.exceptions import ClientError

        key = self._normalize_name(clean_name(name))
        try:
            answer = self.bucket.Object(key).get()
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(f"File does not exist: {name}") from None
            raise
        return ObjectStream(name, answer["Body"], answer["ContentLength"])

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_pid", None)
        return state
