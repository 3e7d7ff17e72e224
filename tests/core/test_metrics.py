"""/metrics (core.metrics, docs/metrics.md): protection, the page's figures, and the real multi-process case
(gunicorn's workers added up through METRICS_DIR)."""

import os
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from accounts import limits
from core.jobs.models import Job
from core.metrics import http as http_metrics
from tests import gunicorn
from webhooks import metrics as webhook_metrics
from webhooks.services import Outcome

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "scrape-me-0123456789"


def samples(text: str) -> list:
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def value(text: str, name: str, **labels) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    return sum(s.value for s in samples(text) if s.name == name and labels.items() <= s.labels.items())


def scrape(client=None, **extra) -> str:
    response = (client or Client()).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return response.content.decode()


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ENABLED = True
    return settings


def test_off_by_default_404_and_nothing_measured(db, settings, monkeypatch):
    assert settings.METRICS_ENABLED is False
    measured = []
    monkeypatch.setattr(http_metrics.REQUESTS, "labels", lambda *values: measured.append(values))
    assert Client().get("/metrics").status_code == 404
    assert Client().get("/healthz").status_code == 200
    assert measured == []  # the middleware is not in the chain (MiddlewareNotUsed)


def test_token_is_required_and_compared(db, metrics_on):
    client = Client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics")["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401
    assert client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405
    scrape(client)


def test_allowed_addresses_are_the_clients_seen_through_trusted_proxies(db, settings):
    settings.METRICS_ALLOWED_IPS = ["10.20.0.0/16", "192.0.2.9"]
    settings.METRICS_ENABLED = True
    settings.TRUSTED_PROXIES = ["172.16.0.1"]
    client = Client()
    assert client.get("/metrics", REMOTE_ADDR="10.20.3.4").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.9").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.10").status_code == 403
    # through the trusted proxy: the client it names counts, not the proxy
    assert client.get("/metrics", REMOTE_ADDR="172.16.0.1", HTTP_X_FORWARDED_FOR="10.20.9.9").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="172.16.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 403
    # a stranger naming an allowed address is not believed
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="10.20.9.9").status_code == 403
    # both set: both needed
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics", REMOTE_ADDR="10.20.3.4").status_code == 401
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.10", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="10.20.3.4", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def test_a_bad_allowed_address_fails_at_start(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "prometheus.internal"]
    settings.METRICS_ENABLED = True
    with pytest.raises(ImproperlyConfigured, match="METRICS_ALLOWED_IPS"):
        http_metrics.MetricsMiddleware(lambda request: None)


def test_requests_are_counted_per_operation_never_per_path(metrics_on, api, url, application):
    before = scrape()
    api.get(url("customers/list"))
    api.get(url("customers/list"), {"q": "asha"})
    api.get(url("customers/000000000000000000000bad"))
    api.get("/service/panel/authentication/v1.0/company/559/whoami")
    Client().get("/no/such/path/123")
    Client().get("/healthz")
    after = scrape()

    def added(**labels):
        name = "customer_service_http_request_duration_seconds_count"
        return value(after, name, **labels) - value(before, name, **labels)

    assert added(operation="getCustomers", method="GET", status="200") == 2
    assert added(operation="getCustomer", method="GET", status="404") == 1
    assert added(operation="whoami", status="200") == 1  # no operationId of its own: the URL's name
    assert added(operation="healthz", status="200") == 1
    assert added(operation="unmatched", status="404") == 1
    operations = {s.labels["operation"] for s in samples(after) if "operation" in s.labels}
    assert not any("/" in op or "000000000000000000000bad" in op for op in operations), operations
    assert value(after, "customer_service_http_request_duration_seconds_bucket", operation="getCustomers",
                 le="+Inf") >= 2


def test_operation_names_come_from_the_openapi_operation_ids():
    from django.urls import resolve

    match = resolve("/service/platform/user/v1.0/company/5/application/a/customers")
    assert http_metrics.operation_name(match, "POST") == "createUser"
    match = resolve("/service/platform/user/v1.0/company/5/application/a/customers/x")
    assert http_metrics.operation_name(match, "GET") == "getCustomer"
    assert http_metrics.operation_name(match, "PUT") == "updateUser"
    match = resolve("/service/application/user/authentication/v1.0/login/password")
    assert http_metrics.operation_name(match, "POST") == "loginWithEmailAndPassword"
    assert http_metrics.operation_name(resolve("/admin/"), "GET") == "admin:index"


def test_health_queue_and_jobs_are_read_at_scrape_time(metrics_on, application):
    Job.objects.create(company=application.company, application=application, kind="customer_export",
                       status=Job.FAILED, attempts=2)
    from django.utils import timezone

    now = timezone.now()
    Job.objects.create(company=application.company, application=application, kind="customer_export",
                       status=Job.COMPLETED, attempts=1, started_at=now - timezone.timedelta(seconds=42),
                       finished_at=now)
    Job.objects.create(company=application.company, application=application, kind="customer_import",
                       status=Job.PENDING)
    text = scrape()
    assert value(text, "customer_service_up", dependency="postgresql") == 1
    assert value(text, "customer_service_up", dependency="redis") == 1
    assert value(text, "customer_service_queue_depth", queue=django_settings.CELERY_TASK_DEFAULT_QUEUE) >= 0
    assert value(text, "customer_service_jobs", kind="customer_export", status="failed") == 1
    assert value(text, "customer_service_jobs", kind="customer_export", status="completed") == 1
    assert value(text, "customer_service_job_runs_total", kind="customer_export") == 3
    assert value(text, "customer_service_job_duration_seconds_bucket", kind="customer_export",
                 status="completed", le="30.0") == 0
    assert value(text, "customer_service_job_duration_seconds_bucket", kind="customer_export",
                 status="completed", le="60.0") == 1
    assert 41 < value(text, "customer_service_job_duration_seconds_sum", kind="customer_export") < 43
    assert value(text, "customer_service_job_oldest_pending_seconds", kind="customer_import") >= 0


def test_a_dependency_out_of_reach_is_a_zero_not_an_error(metrics_on, db, monkeypatch):
    from core.metrics import collectors

    class Down:
        def ping(self):
            import redis

            raise redis.ConnectionError("refused")

        def pipeline(self, **kwargs):
            self.ping()

    monkeypatch.setattr(collectors, "redis_client", lambda: Down())
    text = scrape()
    assert value(text, "customer_service_up", dependency="redis") == 0
    assert value(text, "customer_service_up", dependency="postgresql") == 1
    assert "customer_service_queue_depth" not in text  # left out, the rest of the page is there
    assert "customer_service_jobs" in text


def test_sign_in_failures_lockouts_and_refusals_are_counted(metrics_on, db):
    import uuid

    before = scrape()
    app_id, ip, who = uuid.uuid4().hex[:24], "198.51.100.7", f"{uuid.uuid4().hex}@example.com"
    policy = {"enable": True, "attempts": 2, "duration": 1}
    limits.lockout.failed("password", app_id, None, who, ip, policy)
    limits.lockout.failed("password", app_id, None, who, ip, policy)  # the second locks
    with pytest.raises(limits.AccountLocked):
        limits.admission("login", ip=ip, identifier=who, kind="password", application_id=app_id, customer_id=None,
                         policy=policy).enforce()
    after = scrape()

    def added(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert added("customer_service_sign_ins_total", method="password", outcome="failed") == 2
    assert added("customer_service_lockouts_total", kind="password") == 1
    assert added("customer_service_storefront_refused_total", reason="locked") == 1


def test_webhook_outcomes_and_backlog(metrics_on, db):
    from django.utils import timezone

    before = scrape()
    now = timezone.now()
    webhook_metrics.count([
        Outcome(delivery_id=1, attempted_at=now, latency_ms=12, status_code=204, error="", next_attempt_at=None,
                succeeded=True),
        Outcome(delivery_id=2, attempted_at=now, latency_ms=30, status_code=503, error="HTTP 503",
                next_attempt_at=now, succeeded=False),
        Outcome(delivery_id=3, attempted_at=now, latency_ms=5, status_code=410, error="HTTP 410",
                next_attempt_at=None, succeeded=False),
    ], held=[4, 5])
    after = scrape()

    def added(**labels):
        name = "customer_service_webhook_delivery_attempts_total"
        return value(after, name, **labels) - value(before, name, **labels)

    assert (added(result="succeeded"), added(result="retrying"), added(result="failed"), added(result="held")) == (
        1, 1, 1, 2)
    assert value(after, "customer_service_webhook_deliveries_pending") >= 0
    assert value(after, "customer_service_webhook_subscriptions_failing") >= 0


# ----------------------------------------------------------------------------- the real processes

def _server_env(tmp_path, **extra) -> dict:
    database_url = urlsplit(django_settings.DATABASE_URL)._replace(path="/" + connection.settings_dict["NAME"]).geturl()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_VERSION", "PROMETHEUS_MULTIPROC_DIR")}
    env.update(DATABASE_URL=database_url, REDIS_URL=django_settings.REDIS_URL, DJANGO_SETTINGS_MODULE="config.settings",
               VAR_DIR=str(tmp_path / "var"), SECRET_KEY=django_settings.SECRET_KEY, LOG_LEVEL="WARNING", **extra)
    return env


def _get(port: int, path: str, headers: dict | None = None) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.mark.django_db(transaction=True)
def test_gunicorn_workers_are_added_up_and_a_dead_workers_counts_stay(tmp_path):
    env = _server_env(tmp_path, METRICS_TOKEN=TOKEN)
    metrics_dir = tmp_path / "var" / "metrics"
    metrics_dir.mkdir(parents=True)
    (metrics_dir / "counter_999999999.db").write_bytes(b"left by a process of an earlier run")
    port = gunicorn.free_port()
    server = gunicorn.start(env, port, tmp_path / "gunicorn.log", workers=3)
    try:
        assert not (metrics_dir / "counter_999999999.db").exists(), "an earlier run's files are removed at start"
        requests = 60
        for _ in range(requests):
            assert _get(port, "/healthz")[0] == 200  # spread over the workers by the kernel
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert _get(port, "/metrics")[0] == 401
        pids = {int(p.stem.rsplit("_", 1)[1]) for p in metrics_dir.glob("histogram_*.db")}
        for _ in range(3):  # whichever worker answers, the page adds up all of them
            status, text = _get(port, "/metrics", auth)
            assert status == 200, text
            assert value(text, "customer_service_http_request_duration_seconds_count", operation="healthz") >= requests
            assert value(text, "customer_service_up", dependency="postgresql") == 1
        # a worker killed: gunicorn starts another (child_exit ran), its requests stay counted
        victim = next(iter(pids))
        os.kill(victim, signal.SIGKILL)
        time.sleep(2)
        status, text = _get(port, "/metrics", auth)
        assert status == 200
        assert value(text, "customer_service_http_request_duration_seconds_count", operation="healthz") >= requests
    finally:
        gunicorn.stop(server)


@pytest.mark.django_db(transaction=True)
def test_without_gunicorns_config_the_workers_are_still_added_up(tmp_path):
    port = gunicorn.free_port()
    server = gunicorn.start(_server_env(tmp_path, METRICS_TOKEN=TOKEN), port, tmp_path / "gunicorn.log", workers=2,
                            conf=False)
    try:
        for _ in range(30):
            assert _get(port, "/healthz")[0] == 200
        for _ in range(3):
            status, text = _get(port, "/metrics", {"Authorization": f"Bearer {TOKEN}"})
            assert status == 200
            assert value(text, "customer_service_http_request_duration_seconds_count", operation="healthz") >= 30
        assert list((tmp_path / "var" / "metrics").glob("histogram_*.db"))  # config/wsgi.py set the directory up
    finally:
        gunicorn.stop(server)


@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_writes_its_figures_where_the_web_reads_them(application, tmp_path, monkeypatch, settings):
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    from core.actors import Actor
    from tests import workers
    from tests.http_receiver import http_receiver
    from users import eventlog, events
    from users.services import record_event
    from webhooks import services
    from webhooks import tasks as _tasks  # noqa: F401  registers webhooks.tasks.deliver
    from webhooks.models import Delivery

    actor = Actor.system("tests")
    settings.WEBHOOK_ALLOWED_HOSTS = ["localhost"]
    metrics_dir = tmp_path / "var" / "metrics"
    with http_receiver([204]) as receiver:
        created = services.create_subscription(application, {"url": receiver.url + "/hooks"}, actor)
        queue, log = workers.private_queue(monkeypatch, "webhooks.tasks.deliver"), tmp_path / "worker.log"
        env = workers.worker_env(django_settings.MEDIA_ROOT, WEBHOOK_ALLOWED_HOSTS="localhost",
                                 METRICS_TOKEN=TOKEN, VAR_DIR=tmp_path / "var",
                                 SECRET_KEY=django_settings.SECRET_KEY)
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        worker = workers.start_worker(env, queue, log)
        try:
            record_event("b" * 24, application.id, events.CUSTOMER_BLOCKED, actor)
            eventlog.sequence_all()
            workers.wait_for(lambda: Delivery.objects.filter(subscription_id=created.subscription.pk,
                                                             status=Delivery.SUCCEEDED).exists(),
                             "the worker's delivery", log)
        finally:
            workers.stop(worker, signal.SIGTERM)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(metrics_dir))  # what /metrics of a web process on this machine reads
    found = {(s.name, tuple(sorted(s.labels.items()))): s.value for m in registry.collect() for s in m.samples}
    assert found[("customer_service_webhook_delivery_attempts_total", (("result", "succeeded"),))] == 1
    assert found[("customer_service_webhook_delivery_seconds_count", ())] == 1
