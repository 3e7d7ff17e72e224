"""A real S3-compatible server (moto in server mode, its own process) for the tests and the bench.

    with S3Server() as s3:                          # http://127.0.0.1:<port>, bucket s3.bucket created
        settings.STORAGES = {**settings.STORAGES, "default": s3.storage(prefix="t/1")}
        env.update(s3.env(prefix="t/1"))              # the same store for a worker or web process

``TEST_FILE_STORAGE=s3`` makes the suite's ``media`` fixture (tests/conftest.py) put every test's files
in the bucket under a prefix of its own, and ``storage_env()`` hands the store of the current settings
to the processes a test starts (tests/workers.py), so the job tests run once against each store.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

BUCKET = "customers-test"
ACCESS_KEY, SECRET_KEY, REGION = "test-access-key", "test-secret-key", "us-east-1"
BACKEND = "core.files.s3.ObjectStorage"


def wanted() -> bool:
    """The suite runs against the S3-compatible store (TEST_FILE_STORAGE=s3) rather than the filesystem."""
    choice = os.environ.get("TEST_FILE_STORAGE", "filesystem").strip().lower()
    if choice not in ("filesystem", "s3"):
        raise ValueError(f"TEST_FILE_STORAGE must be filesystem or s3, not {choice!r}")
    return choice == "s3"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class S3Server:
    """``moto_server`` on a free port of 127.0.0.1, with ``bucket`` created; stopped on exit."""

    def __init__(self, bucket: str = BUCKET, log: Path | None = None):
        self.bucket = bucket
        self.port = _free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self._log = log
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> "S3Server":
        out = self._log.open("ab") if self._log else subprocess.DEVNULL
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.endpoint_url}/moto-api/", timeout=2):
                    break
            except OSError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self.__exit__(None, None, None)
                    raise RuntimeError(f"moto_server did not start on port {self.port}") from None
                time.sleep(0.1)
        self.client().create_bucket(Bucket=self.bucket)
        return self

    def __exit__(self, *exc) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name=REGION,
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)

    def keys(self, prefix: str = "") -> list[str]:
        """Every key of the bucket under ``prefix`` (as the store sees it, the prefix included)."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", ())]

    def options(self, prefix: str = "") -> dict:
        return {"bucket_name": self.bucket, "endpoint_url": self.endpoint_url, "region_name": REGION,
                "access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "location": prefix.strip("/"),
                "addressing_style": "path"}

    def storage(self, prefix: str = "") -> dict:
        """STORAGES["default"] for this server's bucket, every key under ``prefix``."""
        return {"BACKEND": BACKEND, "OPTIONS": self.options(prefix)}

    def env(self, prefix: str = "") -> dict:
        """The service's environment variables for the same store (config/settings.py, docs/storage.md)."""
        return env_of(self.options(prefix))


def env_of(options: dict) -> dict:
    return {"FILE_STORAGE": "s3", "S3_BUCKET": options["bucket_name"], "S3_ENDPOINT_URL": options["endpoint_url"],
            "S3_REGION": options["region_name"], "S3_ACCESS_KEY_ID": options["access_key"],
            "S3_SECRET_ACCESS_KEY": options["secret_key"], "S3_PREFIX": options.get("location", ""),
            "S3_ADDRESSING_STYLE": options.get("addressing_style") or ""}


def storage_env() -> dict:
    """The environment that gives a process started now the store of the current settings: the S3 variables
    when the default storage is the S3-compatible one, else FILE_STORAGE=filesystem (MEDIA_ROOT is the
    caller's)."""
    from django.conf import settings

    default = settings.STORAGES["default"]
    if default["BACKEND"] == BACKEND:
        return env_of(default.get("OPTIONS", {}))
    return {"FILE_STORAGE": "filesystem"}
