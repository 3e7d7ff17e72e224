"""PostgreSQL or Redis out of reach: a 503 in the error format with Retry-After and one log line per
request, never a 500 with a traceback. Real failures: the database connection pointed at a closed port, the
Redis URL at a closed port (nothing of ours mocked)."""

import logging
from contextlib import contextmanager

import pytest
from django.db import connection

from core.api.unavailable import MESSAGE, ShortenUnavailable


@contextmanager
def database_out_of_reach():
    """This thread's connection (the test client's too) closed and pointed at a port nobody listens on."""
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT="1")
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


def assert_unavailable(response, caplog):
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "5"
    body = response.json()
    assert body["code"] == "service_unavailable" and body["success"] is False and body["message"] == MESSAGE
    assert body["request_id"] == response["X-Request-ID"]
    [line] = [r for r in caplog.records if r.name == "core.unavailable"]
    assert f"request_id={body['request_id']}" in line.getMessage()
    # One line per request: Django's own request log ("Service Unavailable", a traceback) is filtered out.
    handled = [r for r in caplog.records if r.name == "django.request" and ShortenUnavailable().filter(r)]
    assert not handled, [r.getMessage() for r in handled]
    return line.getMessage()


@pytest.mark.django_db(transaction=True)
def test_database_down_is_a_503_with_retry_after(api, url, caplog):
    assert api.get(url("customers/list")).status_code == 200
    with database_out_of_reach(), caplog.at_level(logging.WARNING):
        response = api.get(url("customers/list"))
    assert "error=OperationalError" in assert_unavailable(response, caplog)
    assert api.get(url("customers/list")).status_code == 200  # back at once


@pytest.mark.django_db(transaction=True)
def test_database_down_in_the_console_too(client, caplog):
    with database_out_of_reach(), caplog.at_level(logging.WARNING):
        response = client.get("/admin/login/")
    assert response.status_code == 503 and response["Retry-After"] == "5"


def test_redis_down_is_a_503_with_retry_after(api, url, create_customer, settings, caplog):
    customer = create_customer()
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # sessions_app.store makes a new client for a new URL
    with caplog.at_level(logging.WARNING):
        response = api.get(url("customers/sessions"), {"id": customer["_id"]})
    assert "error=ConnectionError" in assert_unavailable(response, caplog)


def test_a_request_error_log_of_an_outage_loses_its_traceback():
    from django.db import OperationalError

    def record(exc):
        return logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Internal Server Error", (),
                                 (type(exc), exc, None))

    assert ShortenUnavailable().filter(record(OperationalError("gone"))) is False
    assert ShortenUnavailable().filter(record(ValueError("a bug"))) is True  # real bugs keep theirs


@pytest.mark.django_db(transaction=True)
def test_the_line_carries_its_fields_and_is_json_with_log_format_json(api, url, caplog):
    import json
    import logging.config

    from django.conf import settings as conf

    with database_out_of_reach(), caplog.at_level(logging.WARNING):
        response = api.get(url("customers/list"))
    [line] = [r for r in caplog.records if r.name == "core.unavailable"]
    assert (line.request_id, line.method, line.operation, line.error) == (
        response["X-Request-ID"], "GET", "customers-list", "OperationalError")
    # LOG_FORMAT=json: the settings' json formatter writes the record as one JSON object with those fields
    formatter = logging.config.DictConfigurator(dict(conf.LOGGING)).configure_formatter(conf.LOGGING["formatters"]["json"])
    written = json.loads(formatter.format(line))
    assert written["level"] == "WARNING" and written["logger"] == "core.unavailable" and "time" in written
    assert (written["request_id"], written["operation"], written["error"]) == (
        response["X-Request-ID"], "customers-list", "OperationalError")
