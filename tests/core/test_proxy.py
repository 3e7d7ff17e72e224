"""Behind a proxy (core.api.proxy, docs/proxy.md): X-Forwarded-Proto / -Host / -For believed from TRUSTED_PROXIES
only — in Django (links, redirects, rate limits, sessions) and in a real gunicorn."""

import base64
import http.client
import json
import uuid

import pytest
from django.test import Client, RequestFactory

from core.api import proxy
from core.jobs.models import Job
from core.tenancy import services as tenancy_services
from core.tenancy.models import ALL_SCOPES
from tests import gunicorn
from tests.core.test_metrics import _server_env
from tests.helpers import COMPANY_ID, platform_path

factory = RequestFactory()


def _ip(remote, forwarded=None, **meta):
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return proxy.client_ip(factory.get("/", REMOTE_ADDR=remote, **meta))


def test_client_ip_is_the_right_most_untrusted_address_from_a_trusted_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "2001:db8:ffff::/48"]
    assert _ip("10.0.0.1", "203.0.113.7") == "203.0.113.7"
    assert _ip("10.0.0.1", "203.0.113.7, 10.0.0.2") == "203.0.113.7"  # a second trusted hop is skipped
    assert _ip("10.0.0.1", "6.6.6.6, 203.0.113.7") == "203.0.113.7"  # what the client wrote itself is left of it
    assert _ip("10.0.0.1", "10.4.4.4") == "10.4.4.4"  # only proxies: the left-most
    assert _ip("10.0.0.1", "203.0.113.7:5678") == "203.0.113.7"
    assert _ip("10.0.0.1", "[2001:db8::7]:443") == "2001:db8::7"
    assert _ip("2001:db8:ffff::1", "2001:db8::7") == "2001:db8::7"
    assert _ip("10.0.0.1", "junk") == "10.0.0.1"  # not an address: the last good one
    assert _ip("10.0.0.1", "203.0.113.7, junk") == "10.0.0.1"
    assert _ip("10.0.0.1") == "10.0.0.1"
    assert _ip("::ffff:10.0.0.1", "203.0.113.7") == "203.0.113.7"  # an IPv4 peer on a dual-stack socket


def test_an_untrusted_peer_names_no_client(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert _ip("192.0.2.50", "203.0.113.7") == "192.0.2.50"
    assert _ip("192.0.2.50", "10.0.0.1") == "192.0.2.50"
    settings.TRUSTED_PROXIES = []
    assert _ip("10.0.0.1", "203.0.113.7") == "10.0.0.1"


def test_the_client_header_can_be_another_one(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.TRUSTED_CLIENT_IP_HEADER = "X-Real-IP"
    assert _ip("10.0.0.1", "203.0.113.7", HTTP_X_REAL_IP="198.51.100.1") == "198.51.100.1"
    assert _ip("192.0.2.50", HTTP_X_REAL_IP="198.51.100.1") == "192.0.2.50"


def test_a_unix_socket_peer_is_a_trusted_proxy(settings):
    settings.TRUSTED_PROXIES = []
    assert _ip("", "203.0.113.7") == "203.0.113.7"


def test_a_bad_entry_fails_at_start(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "proxy.example.com"]
    with pytest.raises(ImproperlyConfigured, match="proxy.example.com"):
        proxy.TrustedProxyMiddleware(lambda request: None)


# ----------------------------------------------------------------------------- Django: links and redirects

@pytest.fixture
def exported_job(application):
    return Job.objects.create(company=application.company, application=application, kind="customer_export",
                              status=Job.COMPLETED, result_file=f"exports/{uuid.uuid4().hex}.csv")


def _file_link(api, job, **meta) -> str:
    response = api.get(platform_path(COMPANY_ID, job.application_id, f"users/jobs/{job.id}"), **meta)
    assert response.status_code == 200, response.content
    return response.json()["links"]["file"]["absolute_url"]


def test_links_follow_the_forwarded_scheme_and_host_from_a_trusted_proxy(settings, api, exported_job):
    settings.TRUSTED_PROXIES = ["10.1.0.0/16"]
    settings.ALLOWED_HOSTS = ["customers.example.com", "testserver"]
    forwarded = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_HOST": "customers.example.com"}
    assert _file_link(api, exported_job, REMOTE_ADDR="10.1.2.3", **forwarded).startswith(
        "https://customers.example.com/files/")
    assert _file_link(api, exported_job, REMOTE_ADDR="192.0.2.50", **forwarded).startswith("http://testserver/files/")
    # a chain of proxies: the first host named
    link = _file_link(api, exported_job, REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_PROTO="https",
                      HTTP_X_FORWARDED_HOST="customers.example.com, internal.lb")
    assert link.startswith("https://customers.example.com/files/")


def test_a_forwarded_host_must_still_be_allowed(settings, api, exported_job):
    settings.TRUSTED_PROXIES = ["10.1.0.0/16"]
    settings.ALLOWED_HOSTS = ["customers.example.com", "testserver"]
    response = api.get(platform_path(COMPANY_ID, exported_job.application_id, f"users/jobs/{exported_job.id}"),
                       REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_HOST="evil.example")
    assert response.status_code == 400


def test_redirects_follow_the_forwarded_scheme_only_from_a_trusted_proxy(settings, db):
    settings.TRUSTED_PROXIES = ["10.1.0.0/16"]
    settings.SECURE_SSL_REDIRECT = True  # the scheme decides: http is sent to https
    settings.SECURE_REDIRECT_EXEMPT = []
    client = Client()
    assert client.get("/healthz", REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_PROTO="https").status_code == 200
    response = client.get("/healthz", REMOTE_ADDR="192.0.2.50", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301 and response["Location"] == "https://testserver/healthz"


# ----------------------------------------------------------------------------- the rate limits' client

def test_the_rate_limit_counts_the_forwarded_client_only_behind_a_trusted_proxy(settings, application):
    settings.TRUSTED_PROXIES = ["10.1.0.0/16"]
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "exists": (2, 1000, 60)}
    storefront = Client(HTTP_AUTHORIZATION="Bearer " + base64.b64encode(
        f"{application.id}:{application.storefront_token}".encode()).decode())
    run = uuid.uuid4().int % 200

    def exists(remote, forwarded):
        return storefront.get("/service/application/user/authentication/v1.0/user-exists",
                              {"q": f"{uuid.uuid4().hex}@example.com"}, REMOTE_ADDR=remote,
                              HTTP_X_FORWARDED_FOR=forwarded).status_code

    # through the proxy, two shoppers: each has their own two
    one, two = f"203.0.113.{run}", f"198.51.100.{run}"
    assert [exists("10.1.0.1", one), exists("10.1.0.2", one), exists("10.1.0.1", one)] == [200, 200, 429]
    assert exists("10.1.0.1", two) == 200
    # a stranger changing X-Forwarded-For on each request is still one client
    stranger = f"192.0.2.{run}"
    assert [exists(stranger, f"203.0.114.{i}") for i in range(3)] == [200, 200, 429]


# ----------------------------------------------------------------------------- a real gunicorn

TRUSTED, STRANGER = "127.0.0.2", "127.0.0.3"  # loopback addresses: the proxy and a client connecting directly


def _request(port, method, path, *, source, headers=None, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20, source_address=(source, 0))
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers={"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


@pytest.mark.django_db(transaction=True)
def test_gunicorn_behind_a_proxy_on_another_address(tmp_path):
    application, _ = tenancy_services.create_application(company_id=COMPANY_ID, name="Proxied Store")
    record, _ = tenancy_services.create_api_client(company_id=COMPANY_ID, name="proxy test", scopes=list(ALL_SCOPES))
    token = tenancy_services.issue_token(record).access_token
    job = Job.objects.create(company=application.company, application=application, kind="customer_export",
                             status=Job.COMPLETED, result_file="exports/proxied.csv")
    env = _server_env(tmp_path, TRUSTED_PROXIES=TRUSTED, ALLOWED_HOSTS="customers.example.com,127.0.0.1")
    port = gunicorn.free_port()
    server = gunicorn.start(env, port, tmp_path / "gunicorn.log")
    try:
        auth = {"Authorization": f"Bearer {token}"}
        forwarded = {**auth, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "customers.example.com",
                     "X-Forwarded-For": "203.0.113.9"}
        job_path = platform_path(COMPANY_ID, application.id, f"users/jobs/{job.id}")
        status, body = _request(port, "GET", job_path, source=TRUSTED, headers=forwarded)
        assert status == 200, body
        assert body["links"]["file"]["absolute_url"].startswith("https://customers.example.com/files/")
        status, body = _request(port, "GET", job_path, source=STRANGER, headers=forwarded)
        assert status == 200, body
        assert body["links"]["file"]["absolute_url"].startswith(f"http://127.0.0.1:{port}/files/")

        # the client's address of a session: the forwarded one through the proxy, the peer's otherwise
        status, customer = _request(port, "POST", platform_path(COMPANY_ID, application.id, "customers"),
                                    source=TRUSTED, headers=auth,
                                    body={"phone_number": "9876543210", "email": "asha@example.com"})
        assert status in (200, 201), customer
        user_id = customer["user"]["_id"] if "user" in customer else customer["_id"]
        session_path = platform_path(COMPANY_ID, application.id, "customers/session")
        for source in (TRUSTED, STRANGER):
            status, body = _request(port, "POST", session_path, source=source, headers=forwarded,
                                    body={"user_id": user_id, "domain": "shop.example.com"})
            assert status == 200, body
        status, body = _request(port, "GET", platform_path(COMPANY_ID, application.id,
                                                           f"customers/sessions?id={user_id}"),
                                source=TRUSTED, headers=auth)
        assert status == 200, body
        assert sorted(s["ip"] for s in body["items"]) == ["127.0.0.3", "203.0.113.9"], body
    finally:
        gunicorn.stop(server)
