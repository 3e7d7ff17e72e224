"""Shared fixtures: real PostgreSQL and Redis (embedded under VAR_DIR unless DATABASE_URL / REDIS_URL).

The session's settings are config/settings_test.py (pyproject.toml)."""

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from config import servers
from core.tenancy import services as core_services
from core.tenancy.models import ALL_SCOPES
from tests.helpers import APP_ID, COMPANY_ID, platform_path


@pytest.fixture(scope="session", autouse=True)
def embedded_servers():
    """The embedded PostgreSQL and Redis of the settings, for the whole session (they stop at its exit)."""
    servers.start_embedded(django_settings)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, embedded_servers):
    """pytest-django's, once the servers run: the test database is created in the embedded PostgreSQL."""

@pytest.fixture
def application(db):
    app, token = core_services.create_application(company_id=COMPANY_ID, name="Demo Store", application_id=APP_ID)
    app.storefront_token = token  # the storefront's credentials (Bearer base64(application_id:token))
    return app


@pytest.fixture
def other_application(db):
    """Same company, another application."""
    app, _ = core_services.create_application(company_id=COMPANY_ID, name="Second Store")
    return app


@pytest.fixture
def foreign_application(db):
    """Another company's application."""
    app, _ = core_services.create_application(company_id=777, name="Foreign Store")
    return app


@pytest.fixture
def make_client(db):
    """make_client(company_id=559, scopes=ALL) -> an APIClient carrying a fresh Bearer token."""

    def factory(company_id=COMPANY_ID, scopes=ALL_SCOPES):
        client_record, _secret = core_services.create_api_client(
            company_id=company_id, name="test client", scopes=list(scopes))
        issued = core_services.issue_token(client_record)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.access_token}")
        client.issued = issued
        client.record = client_record
        return client

    return factory


@pytest.fixture
def api(make_client, application):
    return make_client()


@pytest.fixture
def url(application):
    """url("customers/list") -> the platform path of the default application."""

    def build(suffix="", company_id=COMPANY_ID, application_id=None):
        return platform_path(company_id, application_id or application.id, suffix)

    return build


@pytest.fixture
def create_customer(api, url):
    """create_customer(phone_number=..., email=..., **fields) through the API; returns the user dict."""
    counter = iter(range(10_000))

    def factory(**fields):
        n = next(counter)
        body = {"phone_number": f"98765{n:05d}", **fields}
        response = api.post(url("customers"), body, format="json")
        assert response.status_code == 200, response.content
        return response.json()["user"]

    return factory


STAFF_PASSWORD = "Adm1n-console-pass!"


@pytest.fixture
def staff_client(client, application):
    """The test client logged in as a staff user of company 559 (``client.staff``) for the admin."""
    staff = core_services.create_staff_user(company_id=COMPANY_ID, username="staff559", password=STAFF_PASSWORD)
    client.force_login(staff)
    client.staff = staff
    return client


@pytest.fixture
def read_only_client(client, application):
    """The test client logged in as a read-only staff user of company 559 (not with staff_client: one client)."""
    auditor = core_services.create_staff_user(company_id=COMPANY_ID, username="auditor559", password=STAFF_PASSWORD,
                                              role="read_only")
    client.force_login(auditor)
    return client


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """A real S3-compatible server (moto, its own process) with its bucket, for the session (tests/s3_server.py)."""
    from tests.s3_server import S3Server

    with S3Server(log=tmp_path_factory.mktemp("s3") / "moto.log") as server:
        yield server


@pytest.fixture(autouse=True)
def media(settings, tmp_path, request):
    """Every test writes its files (error reports, exports, uploads) to a folder of its own; with
    TEST_FILE_STORAGE=s3, to a prefix of its own in the bucket of ``s3_server`` (tests/workers.py hands the
    store to the workers a test starts)."""
    from tests import s3_server

    settings.MEDIA_ROOT = str(tmp_path / "media")
    if s3_server.wanted():
        server = request.getfixturevalue("s3_server")
        settings.STORAGES = {**settings.STORAGES, "default": server.storage(prefix=f"tests/{tmp_path.name}")}
    return tmp_path / "media"


@pytest.fixture
def local_file_urls(settings):
    """*_file_url may point at tests/file_server.py (localhost, a loopback address)."""
    settings.FILE_URL_ALLOWED_HOSTS = ["localhost"]


@pytest.fixture
def chromium_path():
    """Debian's Chromium for the browser tests (tests/browser.py): fails at once, before any setup, without it."""
    from tests.browser import chromium_executable

    return chromium_executable()
