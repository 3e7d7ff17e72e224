"""core.messages: delivery through a real SMTP server (aiosmtpd), a local HTTP receiver standing in
for the SMS webhook / Twilio, the outbox files, the URL guard, retries, and logs without secrets."""

import base64
import hashlib
import hmac
import json
import logging
import signal
import time
from urllib.parse import parse_qs

import pytest
from django.db import transaction

from config.settings import _smtp_from_url
from core import messages
from core.messages.tasks import deliver
from tests.http_receiver import http_receiver
from tests.smtp_server import smtp_server
from tests.workers import private_queue, start_worker, stop, wait_for, worker_env

CODE = "482913"
LINK = "https://shop.example.com/reset?token=s3cr3t-T0ken&x=1"
PHONE = "+919876543210"


@pytest.fixture(autouse=True)
def delivery_settings(settings, tmp_path, caplog):
    settings.MESSAGE_OUTBOX_DIR = tmp_path / "outbox"
    settings.EMAIL_BACKEND = "core.messages.outbox.EmailBackend"
    settings.SMS_BACKEND = "outbox"
    settings.SMS_ALLOWED_HOSTS = ["localhost"]
    settings.MESSAGE_RETRY_BASE_SECONDS = 0
    settings.MESSAGE_MAX_ATTEMPTS = 5
    settings.DEFAULT_FROM_EMAIL = "Demo Store <no-reply@demo.example>"
    caplog.set_level(logging.DEBUG)
    return settings


@pytest.fixture
def smtp(settings):
    with smtp_server() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        yield server


def run(kind, channel, to, context, name="Demo Store"):
    """The Celery task, run here and now (retries included, without their waits)."""
    return deliver.apply(kwargs={"kind": kind, "channel": channel, "to": to, "application_name": name,
                                 "application_id": "app000000000000000000001", "context": context}).get()


def otp(purpose="register"):
    return {"code": CODE, "minutes": 5, "purpose": purpose, "first_name": "Asha"}


def assert_no_secret(caplog, *secrets):
    for secret in secrets:
        assert secret not in caplog.text


# ----------------------------------------------------------------------------- email

def test_otp_email_through_a_real_smtp_server(smtp, caplog):
    assert run("otp", "email", "asha@example.com", otp()) == "sent"

    [message] = smtp.messages
    assert smtp.envelopes == [("no-reply@demo.example", ["asha@example.com"])]
    assert message["To"] == "asha@example.com"
    assert CODE in message["Subject"] and "Demo Store" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for part in (text, html):
        assert CODE in part and "Demo Store" in part and "to finish signing up" in part and "Asha" in part
    assert "5 minutes" in text
    assert "a***@example.com" in caplog.text and "attempt 1/5 sent" in caplog.text
    assert_no_secret(caplog, CODE)


@pytest.mark.parametrize("kind, context, words", [
    ("verify_link", {"link": LINK}, "Verify"),
    ("reset_link", {"link": LINK, "minutes": 30}, "Reset your Asha's & Co password"),
    ("password_changed", {}, "password was changed"),
    ("account_deleted", {"days": 7}, "deleted for good in 7 days"),
])
def test_every_kind_renders_text_and_html_with_the_application_name(smtp, caplog, kind, context, words):
    assert run(kind, "email", "asha@example.com", context, name="Asha's & Co") == "sent"

    [message] = smtp.messages
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Asha's & Co" in message["Subject"] + text and "Asha&#x27;s &amp; Co" in html
    assert words in message["Subject"] + text
    if "link" in context:
        assert LINK in text  # plain text keeps the "&" of the link
        assert 'href="https://shop.example.com/reset?token=s3cr3t-T0ken&amp;x=1"' in html
    assert_no_secret(caplog, "s3cr3t-T0ken")


def test_smtp_down_is_retried_then_given_up(settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    settings.MESSAGE_MAX_ATTEMPTS = 3

    assert run("otp", "email", "asha@example.com", otp()) == "failed"

    assert caplog.text.count("failed, retrying") == 2 and "attempt 3/3 failed, giving up" in caplog.text
    assert_no_secret(caplog, CODE)


def test_without_smtp_each_email_is_one_outbox_file(settings):
    run("otp", "email", "asha@example.com", otp())
    run("reset_link", "email", "asha@example.com", {"link": LINK})

    files = sorted(settings.MESSAGE_OUTBOX_DIR.glob("*-email-*.eml"))
    assert len(files) == 2
    first = files[0].read_text()
    assert f"Subject: {CODE} is your Demo Store code" in first and "To: asha@example.com" in first
    assert LINK in files[1].read_text()


# ----------------------------------------------------------------------------- SMS

def test_without_an_sms_backend_each_sms_is_one_outbox_file(settings):
    run("otp", "sms", PHONE, otp("login"))

    [file] = settings.MESSAGE_OUTBOX_DIR.glob("*-sms-*.txt")
    content = file.read_text()
    assert f"To: {PHONE}" in content
    assert f"{CODE} is your Demo Store code to sign in" in content


def test_webhook_posts_signed_json(settings, caplog):
    settings.SMS_BACKEND, settings.SMS_WEBHOOK_SECRET = "webhook", "whsec-test"
    with http_receiver([200]) as receiver:
        settings.SMS_WEBHOOK_URL = receiver.url + "/sms"
        assert run("otp", "sms", PHONE, otp("login")) == "sent"

    [request] = receiver.requests
    assert request.path == "/sms" and request.headers["content-type"] == "application/json"
    payload = json.loads(request.body)
    assert payload["to"] == PHONE and payload["application_id"] == "app000000000000000000001"
    assert CODE in payload["text"] and "Demo Store" in payload["text"]
    timestamp = request.headers["x-signature-timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    expected = hmac.new(b"whsec-test", timestamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-signature"] == f"sha256={expected}"
    assert "+91******3210" in caplog.text
    assert_no_secret(caplog, CODE, PHONE)


def test_twilio_messages_api_format(settings):
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_FROM = "AC123", "tok-456", "+15005550006"
    with http_receiver([201]) as receiver:
        settings.TWILIO_BASE_URL = receiver.url
        assert run("reset_link", "sms", PHONE, {"link": LINK}) == "sent"

    [request] = receiver.requests
    assert request.path == "/2010-04-01/Accounts/AC123/Messages.json"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"AC123:tok-456").decode()
    form = parse_qs(request.body.decode())
    assert form["To"] == [PHONE] and form["From"] == ["+15005550006"]
    assert LINK in form["Body"][0] and "Demo Store" in form["Body"][0]


def test_retry_on_500_then_success(settings, caplog):
    settings.SMS_BACKEND, settings.SMS_WEBHOOK_SECRET = "webhook", "whsec-test"
    with http_receiver([500, 200]) as receiver:
        settings.SMS_WEBHOOK_URL = receiver.url + "/sms"
        assert run("otp", "sms", PHONE, otp()) == "sent"

    assert len(receiver.requests) == 2
    assert "attempt 1/5 failed, retrying in 0s: the SMS gateway answered HTTP 500" in caplog.text
    assert "attempt 2/5 sent" in caplog.text
    assert_no_secret(caplog, CODE)


def test_a_gateway_that_does_not_answer_is_retried(settings, caplog):
    settings.SMS_BACKEND, settings.SMS_WEBHOOK_SECRET = "webhook", "whsec-test"
    settings.SMS_WEBHOOK_URL, settings.MESSAGE_MAX_ATTEMPTS = "http://localhost:9/sms", 2  # port 9: nobody listens

    assert run("otp", "sms", PHONE, otp()) == "failed"

    assert "attempt 1/2 failed, retrying in 0s: cannot connect to localhost" in caplog.text
    assert "attempt 2/2 failed, giving up" in caplog.text


def test_a_client_error_is_not_retried(settings, caplog):
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_FROM = "AC123", "tok-456", "+15005550006"
    with http_receiver([400]) as receiver:
        settings.TWILIO_BASE_URL = receiver.url
        assert run("otp", "sms", PHONE, otp()) == "failed"

    assert len(receiver.requests) == 1
    assert "attempt 1/5 failed, giving up: the SMS gateway answered HTTP 400" in caplog.text
    assert "tok-456" not in caplog.text


def test_the_guard_refuses_a_private_address_unless_allowed(settings, caplog):
    settings.SMS_BACKEND, settings.SMS_WEBHOOK_SECRET = "webhook", "whsec-test"
    settings.SMS_ALLOWED_HOSTS = []
    with http_receiver([200]) as receiver:
        settings.SMS_WEBHOOK_URL = receiver.url + "/sms"
        assert run("otp", "sms", PHONE, otp()) == "failed"
        settings.SMS_WEBHOOK_URL = receiver.url.replace("localhost", "127.0.0.1") + "/sms"
        assert run("otp", "sms", PHONE, otp()) == "failed"

    assert receiver.requests == []
    assert caplog.text.count("giving up: SMS_WEBHOOK_URL points to a private address") == 2


def test_a_webhook_url_that_is_not_http_is_refused(settings, caplog):
    settings.SMS_BACKEND, settings.SMS_WEBHOOK_SECRET = "webhook", "whsec-test"
    settings.SMS_WEBHOOK_URL = "file:///etc/passwd"
    assert run("otp", "sms", PHONE, otp()) == "failed"
    assert "SMS_WEBHOOK_URL must be an http or https URL" in caplog.text


def test_an_unconfigured_webhook_fails_without_retrying(settings, caplog):
    settings.SMS_BACKEND, settings.SMS_WEBHOOK_URL, settings.SMS_WEBHOOK_SECRET = "webhook", "", ""
    assert run("otp", "sms", PHONE, otp()) == "failed"
    assert "attempt 1/5 failed, giving up: SMS_BACKEND=webhook needs" in caplog.text


# ----------------------------------------------------------------------------- send(), templates, start-up line

def test_send_reaches_the_smtp_server_and_the_sms_gateway_through_a_real_worker(
        application, monkeypatch, tmp_path, django_capture_on_commit_callbacks):
    queue = private_queue(monkeypatch, "core.messages.tasks.deliver")
    log = tmp_path / "worker.log"
    with smtp_server() as smtp, http_receiver([200]) as gateway:
        env = worker_env(tmp_path / "media", EMAIL_HOST="127.0.0.1", EMAIL_PORT=smtp.port, SMS_BACKEND="webhook",
                         SMS_WEBHOOK_URL=gateway.url + "/sms", SMS_WEBHOOK_SECRET="whsec-test",
                         SMS_ALLOWED_HOSTS="localhost", MESSAGE_OUTBOX_DIR=tmp_path / "outbox")
        worker = start_worker(env, queue, log)
        try:
            with django_capture_on_commit_callbacks(execute=True):
                messages.send("otp", channel="email", to="asha@example.com", application=application,
                              context=otp("verify"))
                messages.send("otp", channel="sms", to=PHONE, application=application, context=otp("verify"))
            wait_for(lambda: smtp.messages and gateway.requests, "the email and the SMS", log)
        finally:
            stop(worker, signal.SIGTERM)

    assert CODE in smtp.messages[0]["Subject"] and application.name in smtp.messages[0]["Subject"]
    assert CODE in json.loads(gateway.requests[0].body)["text"]
    worker_log = log.read_text()
    assert worker_log.count("attempt 1/5 sent") == 2
    assert CODE not in worker_log and "asha@example.com" not in worker_log and PHONE not in worker_log



def test_send_checks_the_call(application):
    good = {"channel": "email", "to": "asha@example.com", "application": application, "context": otp()}
    with pytest.raises(ValueError, match="unknown message kind"):
        messages.send("welcome", **good)
    with pytest.raises(ValueError, match="unknown channel"):
        messages.send("otp", **{**good, "channel": "fax"})
    with pytest.raises(ValueError, match="E.164"):
        messages.send("otp", **{**good, "channel": "sms", "to": "9876543210"})
    with pytest.raises(ValueError, match="needs code"):
        messages.send("otp", **{**good, "context": {"minutes": 5, "purpose": "login"}})
    with pytest.raises(ValueError, match="purpose"):
        messages.send("otp", **{**good, "context": {**otp(), "purpose": "other"}})
    with pytest.raises(ValueError, match="needs link"):
        messages.send("reset_link", **{**good, "context": {}})


def test_send_queues_only_when_the_transaction_commits(application, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        try:
            with transaction.atomic():
                messages.send("otp", channel="sms", to=PHONE, application=application, context=otp())
                raise RuntimeError("the request failed")
        except RuntimeError:
            pass
    assert callbacks == []

    with django_capture_on_commit_callbacks() as callbacks:
        messages.send("otp", channel="sms", to=PHONE, application=application, context=otp())
    assert len(callbacks) == 1


def test_a_deployment_overrides_a_template(settings, tmp_path, smtp):
    override = tmp_path / "my-templates" / "messages" / "otp"
    override.mkdir(parents=True)
    (override / "subject.txt").write_text("Code for {{ application_name }}: {{ code }}")
    settings.MESSAGE_TEMPLATE_DIRS = [str(tmp_path / "my-templates")]

    run("otp", "email", "asha@example.com", otp())

    [message] = smtp.messages
    assert message["Subject"] == f"Code for Demo Store: {CODE}"
    assert "to finish signing up" in message.get_body(("plain",)).get_content()  # the rest: the defaults


def test_describe_delivery_says_where_messages_go_without_credentials(settings):
    sentence = messages.describe_delivery()
    assert f"emails are written to {settings.MESSAGE_OUTBOX_DIR}" in sentence
    assert f"SMS are written to {settings.MESSAGE_OUTBOX_DIR}" in sentence

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "mx.example", 587
    settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL = True, False
    settings.EMAIL_HOST_PASSWORD = "smtp-pass"
    settings.SMS_BACKEND, settings.SMS_WEBHOOK_URL = "webhook", "https://relay.example/sms?key=hook-key"
    sentence = messages.describe_delivery()
    assert "sent by SMTP to mx.example:587 with STARTTLS" in sentence
    assert "POSTed to https://relay.example" in sentence
    assert "smtp-pass" not in sentence and "hook-key" not in sentence


@pytest.mark.parametrize("url, expected", [
    ("smtp://user:p%40ss@mail.example:2525", ("mail.example", 2525, "user", "p@ss", False, False)),
    ("smtp+tls://u:p@mail.example", ("mail.example", 587, "u", "p", True, False)),
    ("smtps://mail.example", ("mail.example", 465, "", "", False, True)),
])
def test_email_url(url, expected):
    assert _smtp_from_url(url) == expected


def test_masking():
    assert messages.mask_recipient("asha@example.com") == "a***@example.com"
    assert messages.mask_recipient(PHONE) == "+91******3210"
