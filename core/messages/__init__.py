"""Messages to customers (one-time codes, verification and reset links, notices) by email or SMS.

    from core import messages

    messages.send("otp", channel="sms", to="+919876543210", application=app,
                  context={"code": "123456", "minutes": 5, "purpose": "login"})

``send`` checks the call (ValueError for an unknown kind or channel, a malformed recipient or a missing
context key), then queues the Celery task ``core.messages.tasks.deliver`` once the current transaction
commits (a rolled-back request sends nothing) and returns: a request never waits on delivery. The task
renders ``templates/messages/<kind>/`` with the application's name and hands the result to Django's
email framework or the SMS backend of SMS_BACKEND, retrying with backoff. Nothing secret is logged.
``describe_delivery()`` says where messages go (for the start-up banner). docs/messages.md has it all.

Modules: ``kinds`` (kinds, channels, call checks) · ``masking`` · ``rendering`` · ``outbox`` (files, and
the outbox email backend) · ``http`` (guarded POST) · ``email`` · ``sms`` (backends) · ``delivery``
(one attempt) · ``tasks`` (the Celery task).
"""

import logging
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction

from core.messages import tasks
from core.messages.kinds import CHANNELS, KINDS, OTP_PURPOSES, check
from core.messages.masking import mask_recipient

__all__ = ["CHANNELS", "KINDS", "OTP_PURPOSES", "describe_delivery", "mask_recipient", "send"]

logger = logging.getLogger(__name__)
OUTBOX_EMAIL_BACKEND = "core.messages.outbox.EmailBackend"


def send(kind: str, *, channel: str, to: str, application, context: dict) -> None:
    context = dict(context or {})
    check(kind, channel, to, context)
    job = {"kind": kind, "channel": channel, "to": to, "application_id": str(application.id),
           "application_name": application.name, "context": context}
    transaction.on_commit(partial(_enqueue, job), robust=True)


def _enqueue(job: dict) -> None:
    masked = f"message {job['kind']} by {job['channel']} to {mask_recipient(job['to'])}"
    try:
        # kwargsrepr: what Celery's own logs and events show of the arguments instead of the code / link
        tasks.deliver.apply_async(kwargs=job, kwargsrepr=repr({"kind": job["kind"], "channel": job["channel"]}))
    except Exception as exc:  # the broker is down: the request has succeeded, the message is lost
        logger.error("%s (application %s) could not be queued: %s", masked, job["application_id"],
                     type(exc).__name__)
        return
    logger.info("%s (application %s) queued", masked, job["application_id"])


def describe_delivery() -> str:
    """One sentence for the start-up log: where emails and SMS go, without any credential."""
    outbox = settings.MESSAGE_OUTBOX_DIR
    if settings.EMAIL_BACKEND == OUTBOX_EMAIL_BACKEND:
        email = f"written to {outbox} (set EMAIL_URL or EMAIL_HOST to send them)"
    elif settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":
        security = " over TLS" if settings.EMAIL_USE_SSL else " with STARTTLS" if settings.EMAIL_USE_TLS else ""
        email = f"sent by SMTP to {settings.EMAIL_HOST}:{settings.EMAIL_PORT}{security}"
    else:
        email = f"handed to {settings.EMAIL_BACKEND}"
    sms = {
        "outbox": f"written to {outbox} (set SMS_BACKEND to send them)",
        "webhook": f"POSTed to {_origin(settings.SMS_WEBHOOK_URL)} (signed webhook)",
        "twilio": f"sent through Twilio's Messages API at {_origin(settings.TWILIO_BASE_URL)}",
    }.get(settings.SMS_BACKEND, f"not sent: SMS_BACKEND={settings.SMS_BACKEND!r} is unknown")
    return f"Messages: emails are {email}; SMS are {sms}."


def _origin(url: str) -> str:
    """scheme://host[:port] of a URL: a webhook's path or query may hold a token."""
    try:
        parts = urlsplit(url or "")
        port = parts.port
    except ValueError:
        return "(an invalid URL)"
    if not parts.hostname:
        return "(unset)"
    return f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port else "")
