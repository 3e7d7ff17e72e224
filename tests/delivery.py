"""Real delivery for the storefront account tests (tests/accounts, tests/sdk): a real SMTP server and a local
HTTP receiver standing in for the SMS gateway (the signed webhook backend), each message sent by the Celery
task run eagerly as the request's transaction commits; and a clean slate of the accounts' Redis keys."""

from contextlib import contextmanager

from accounts import keyspace
from config.celery import app as celery_app
from tests.http_receiver import http_receiver
from tests.smtp_server import smtp_server


@contextmanager
def real_delivery(settings):
    """(smtp, sms) while emails go to the SMTP server and SMS to the receiver (``settings``: pytest-django's)."""
    with smtp_server() as smtp, http_receiver([200]) as sms:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.SMS_BACKEND, settings.SMS_WEBHOOK_URL = "webhook", sms.url + "/sms"
        settings.SMS_WEBHOOK_SECRET, settings.SMS_ALLOWED_HOSTS = "test-secret", ["localhost"]
        settings.MESSAGE_RETRY_BASE_SECONDS = 0
        eager = celery_app.conf.task_always_eager
        celery_app.conf.task_always_eager = True
        try:
            yield smtp, sms
        finally:
            celery_app.conf.task_always_eager = eager


def clear_account_keys() -> None:
    """Codes, resend timers, rate limits and lockouts are Redis keys (accounts/keyspace.py): drop them all."""
    client = keyspace.connection()
    for key in client.scan_iter(match=keyspace.PREFIX + "*", count=1000):
        client.delete(key)
