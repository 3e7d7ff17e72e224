"""core.files: stored files and the signed, expiring /files/ links that serve them."""

from django.core.files.storage import default_storage
from django.test import RequestFactory

from core import files
from tests.helpers import assert_error


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


def test_save_file_replaces_a_file_of_the_same_name(media):
    assert files.save_file("jobs/a/b/result.csv", b"first") == "jobs/a/b/result.csv"
    assert files.save_file("jobs/a/b/result.csv", b"second") == "jobs/a/b/result.csv"
    with default_storage.open("jobs/a/b/result.csv", "rb") as handle:
        assert handle.read() == b"second"


def test_write_csv_streams_rows_into_storage():
    name = files.write_csv("exports/x.csv", ["id", "name"], ((n, f"name {n}") for n in range(3)))
    with default_storage.open(name, "rb") as handle:
        assert handle.read().decode() == "id,name\r\n0,name 0\r\n1,name 1\r\n2,name 2\r\n"


def test_a_signed_link_downloads_the_file(client):
    name = files.save_file("jobs/app/job/errors.csv", b"row,reference,error\r\n")
    url = files.signed_url(name)
    assert url.startswith("http://localhost:8000/files/")  # PUBLIC_BASE_URL outside a request
    response = client.get(url.removeprefix("http://localhost:8000"))
    assert response.status_code == 200
    assert body_of(response) == b"row,reference,error\r\n"
    assert response["Content-Disposition"] == 'attachment; filename="errors.csv"'
    assert response["Cache-Control"] == "private, no-store"


def test_links_follow_the_request_host_and_public_base_url(settings):
    name = files.save_file("a.csv", b"x")
    request = RequestFactory().get("/", HTTP_HOST="customers.example.com", secure=True)
    settings.ALLOWED_HOSTS = ["customers.example.com"]
    assert files.signed_url(name, request).startswith("https://customers.example.com/files/")
    settings.PUBLIC_BASE_URL = "https://files.example.org"
    assert files.signed_url(name).startswith("https://files.example.org/files/")
    assert files.signed_path(name).startswith("/files/")


def test_a_tampered_link_is_refused(client):
    name = files.save_file("jobs/app/job/errors.csv", b"secret")
    path = files.signed_path(name)
    token = path.removeprefix("/files/")
    other = files.signed_path("jobs/app/other/errors.csv").removeprefix("/files/")
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # signature changed
                other.split(":")[0] + ":" + token.split(":", 1)[1],  # another name, this signature
                "not-a-token"):
        assert_error(client.get(f"/files/{bad}"), 403, "not valid", code="invalid_link")


def test_a_link_signed_with_another_salt_is_refused(client):
    from django.core import signing

    token = signing.dumps({"n": "a.csv", "e": 2**40}, salt="something else")
    files.save_file("a.csv", b"x")
    assert_error(client.get(f"/files/{token}"), 403, code="invalid_link")


def test_an_expired_link_is_refused(client, settings):
    name = files.save_file("a.csv", b"x")
    assert_error(client.get(files.signed_path(name, ttl=-1)), 403, "expired", code="link_expired")
    settings.FILE_LINK_TTL_SECONDS = 60
    assert client.get(files.signed_path(name)).status_code == 200


def test_a_link_to_a_deleted_file_is_not_found(client):
    name = files.save_file("a.csv", b"x")
    path = files.signed_path(name)
    files.delete_file(name)
    assert_error(client.get(path), 404, "no longer exists", code="file_not_found")


def test_only_get(client):
    name = files.save_file("a.csv", b"x")
    assert client.post(files.signed_path(name)).status_code == 405
