"""Where the service keeps its files (config/settings.py, core/files/s3.py, docs/storage.md): the filesystem by
default, an S3-compatible bucket with FILE_STORAGE=s3; downloads streamed from either, uploads in parts."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.storage import storages as django_storages

from core import files
from core.files import s3

ROOT = Path(__file__).resolve().parents[2]
STORAGE_VARIABLES = ("FILE_STORAGE", "S3_BUCKET", "S3_ENDPOINT_URL", "S3_REGION", "S3_ACCESS_KEY_ID",
                     "S3_SECRET_ACCESS_KEY", "S3_PREFIX", "S3_ADDRESSING_STYLE", "S3_ACL", "S3_CA_BUNDLE", "MEDIA_ROOT")


def settings_of(tmp_path, **variables) -> subprocess.CompletedProcess:
    """config.settings imported in a fresh process with only these storage variables."""
    env = {k: v for k, v in os.environ.items() if k not in STORAGE_VARIABLES and k != "DJANGO_SETTINGS_MODULE"}
    env.update(VAR_DIR=str(tmp_path / "var"), **variables)
    code = ("import json; from config import settings as s; "
            "print(json.dumps({'default': s.STORAGES['default'], 'media_root': str(s.MEDIA_ROOT)}))")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


def test_the_filesystem_is_the_default(tmp_path):
    done = settings_of(tmp_path)
    assert done.returncode == 0, done.stderr
    chosen = json.loads(done.stdout)
    assert chosen == {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                      "media_root": str(tmp_path / "var" / "media")}
    assert json.loads(settings_of(tmp_path, FILE_STORAGE="filesystem", MEDIA_ROOT="/srv/shared").stdout) == {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}, "media_root": "/srv/shared"}


def test_s3_is_chosen_by_environment(tmp_path):
    done = settings_of(tmp_path, FILE_STORAGE="S3", S3_BUCKET="acme-customers", S3_ENDPOINT_URL="https://s3.example.net",
                       S3_REGION="eu-west-1", S3_ACCESS_KEY_ID="AK", S3_SECRET_ACCESS_KEY="SK", S3_PREFIX="/prod/",
                       S3_ADDRESSING_STYLE="path")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["default"] == {"BACKEND": "core.files.s3.ObjectStorage", "OPTIONS": {
        "bucket_name": "acme-customers", "endpoint_url": "https://s3.example.net", "region_name": "eu-west-1",
        "access_key": "AK", "secret_key": "SK", "location": "prod", "addressing_style": "path",
        "default_acl": None, "verify": None}}
    # unset keys: boto3's own chain; no S3_ACL: no ACL sent (the objects private, as the store makes them)
    options = json.loads(settings_of(tmp_path, FILE_STORAGE="s3", S3_BUCKET="b", S3_ACL="private").stdout)[
        "default"]["OPTIONS"]
    assert (options["endpoint_url"], options["access_key"], options["secret_key"], options["default_acl"],
            options["location"]) == (None, None, None, "private", "")


@pytest.mark.parametrize("variables, message", [
    ({"FILE_STORAGE": "s3"}, "FILE_STORAGE=s3 needs S3_BUCKET"),
    ({"FILE_STORAGE": "ftp"}, "FILE_STORAGE must be filesystem or s3, not 'ftp'"),
])
def test_a_bad_choice_stops_the_service_at_start(tmp_path, variables, message):
    done = settings_of(tmp_path, **variables)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and message in done.stderr


# ----------------------------------------------------------------------------- the S3-compatible store

@pytest.fixture
def bucket(s3_server, settings, tmp_path):
    """The default storage on the suite's moto server, under a prefix of this test."""
    prefix = f"storage-tests/{tmp_path.name}"
    settings.STORAGES = {**settings.STORAGES, "default": s3_server.storage(prefix=prefix)}
    return prefix


def test_files_go_to_the_bucket_privately_under_the_prefix(s3_server, bucket):
    assert isinstance(django_storages["default"], s3.ObjectStorage)
    name = files.save_file("jobs/app/job/errors.csv", b"row,reference,error\r\n")
    assert name == "jobs/app/job/errors.csv"
    assert s3_server.keys(bucket) == [f"{bucket}/jobs/app/job/errors.csv"]
    client = s3_server.client()
    head = client.head_object(Bucket=s3_server.bucket, Key=f"{bucket}/{name}")
    assert head["ContentType"] == "text/csv"
    grants = client.get_object_acl(Bucket=s3_server.bucket, Key=f"{bucket}/{name}")["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]  # the owner only: no public read
    assert files.save_file(name, b"again") == name  # replaced, not renamed
    assert s3_server.keys(bucket) == [f"{bucket}/{name}"]
    with files.open_file(name) as handle:
        assert handle.read() == b"again"
    files.delete_file(name)
    assert s3_server.keys(bucket) == [] and not files.exists(name)


def test_a_large_export_is_uploaded_in_parts_from_its_spool(s3_server, bucket, tmp_path):
    size = 20 * 1024 * 1024 + 17
    spool = tmp_path / "big.csv"
    with spool.open("wb") as out:
        block = b"x" * 1023 + b"\n"
        for _ in range(size // len(block)):
            out.write(block)
        out.write(b"y" * (size % len(block)))
    with spool.open("rb") as handle:
        name = files.save_file("jobs/app/job/customers.csv", handle)
    etag = s3_server.client().head_object(Bucket=s3_server.bucket, Key=f"{bucket}/{name}")["ETag"]
    assert etag.strip('"').endswith("-3"), etag  # a multipart upload of 8 MB parts, never one body in memory
    with files.open_file(name) as handle:
        assert handle.seek(0, 2) == size


def test_a_download_streams_the_objects_body(s3_server, bucket, client, monkeypatch):
    from storages.backends.s3 import S3File

    body = b"".join(b"%07d,customer %d\r\n" % (n, n) for n in range(200_000))  # ~4 MB
    name = files.save_file("jobs/app/job/customers.csv", body)

    def no_local_copy(self):
        raise AssertionError("the download made a local copy of the object first")

    monkeypatch.setattr(S3File, "_get_file", no_local_copy)  # what open() does on the first read
    response = client.get(files.signed_path(name))
    assert response.status_code == 200
    assert response["Content-Length"] == str(len(body))
    assert response["Content-Disposition"] == 'attachment; filename="customers.csv"'
    assert response["Content-Type"] == "text/csv"
    chunks = list(response.streaming_content)
    assert len(chunks) > 1 and max(map(len, chunks)) <= response.block_size
    assert b"".join(chunks) == body


def test_a_link_to_a_file_gone_from_the_bucket_is_not_found(s3_server, bucket, client):
    from tests.helpers import assert_error

    name = files.save_file("a.csv", b"x")
    path = files.signed_path(name)
    s3_server.client().delete_object(Bucket=s3_server.bucket, Key=f"{bucket}/a.csv")
    assert_error(client.get(path), 404, "no longer exists", code="file_not_found")


def test_a_forked_child_opens_connections_of_its_own(s3_server, bucket):
    """The import's row reader is a forked child: it must not share its parent's sockets to the store."""
    files.save_file("a.csv", b"parent")
    storage = django_storages["default"]
    parent_connection = storage.connection
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        try:
            os.close(read)
            same = storage.connection is parent_connection
            with files.open_file("a.csv") as handle:
                ok = handle.read() == b"parent" and not same
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.waitpid(pid, 0)
    assert answer == b"1"
    assert storage.connection is parent_connection
    with files.open_file("a.csv") as handle:
        assert handle.read() == b"parent"

