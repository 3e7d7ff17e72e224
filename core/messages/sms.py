"""SMS backends, chosen by SMS_BACKEND: ``outbox`` (files), ``webhook`` (a signed JSON POST any provider
or small relay can take) and ``twilio`` (Twilio's Messages API). Each is ``send(to, text, application_id)``
and raises a ``DeliveryError`` (``temporary`` says whether trying again may help).

The webhook's signature (docs/messages.md): ``X-Signature-Timestamp: <unix seconds>`` and
``X-Signature: sha256=<hex>``, the hex HMAC-SHA256 under SMS_WEBHOOK_SECRET of
``<timestamp>.<raw body>`` (the timestamp's ASCII digits, a dot, the body's bytes as sent)."""

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import quote, urlencode

from django.conf import settings

from core.files.downloads import DownloadError
from core.messages import outbox
from core.messages.errors import DeliveryError
from core.messages.http import Answer, Unreachable, post

SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Signature-Timestamp"
RETRY_STATUSES = {408, 425, 429}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def send_outbox(to: str, text: str, application_id: str) -> None:
    outbox.write("sms", f"To: {to}\nApplication: {application_id}\n\n{text}\n".encode(), ".txt")


def send_webhook(to: str, text: str, application_id: str) -> None:
    if not settings.SMS_WEBHOOK_URL or not settings.SMS_WEBHOOK_SECRET:
        raise DeliveryError("SMS_BACKEND=webhook needs SMS_WEBHOOK_URL and SMS_WEBHOOK_SECRET", temporary=False)
    body = json.dumps({"to": to, "text": text, "application_id": application_id}).encode()
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp,
               SIGNATURE_HEADER: sign(settings.SMS_WEBHOOK_SECRET, timestamp, body)}
    _check(_post(settings.SMS_WEBHOOK_URL, body, headers, "SMS_WEBHOOK_URL"))


def send_twilio(to: str, text: str, application_id: str) -> None:
    sid, token, sender = settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_FROM
    if not (sid and token and sender):
        raise DeliveryError("SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM",
                            temporary=False)
    url = f"{settings.TWILIO_BASE_URL}/2010-04-01/Accounts/{quote(sid, safe='')}/Messages.json"
    body = urlencode({"To": to, "From": sender, "Body": text}).encode()
    credentials = base64.b64encode(f"{sid}:{token}".encode()).decode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {credentials}"}
    _check(_post(url, body, headers, "TWILIO_BASE_URL"))


BACKENDS = {"outbox": send_outbox, "webhook": send_webhook, "twilio": send_twilio}


def send(to: str, text: str, application_id: str) -> None:
    backend = BACKENDS.get(settings.SMS_BACKEND)
    if backend is None:
        raise DeliveryError(f"SMS_BACKEND must be one of {', '.join(BACKENDS)}", temporary=False)
    backend(to, text, application_id)


def _post(url: str, body: bytes, headers: dict, setting: str) -> Answer:
    try:
        return post(url, body, headers, setting=setting)
    except DownloadError as exc:  # a refused URL stays refused
        raise DeliveryError(str(exc), temporary=False) from None
    except Unreachable as exc:
        raise DeliveryError(str(exc), temporary=True) from None


def _check(answer: Answer) -> None:
    if 200 <= answer.status < 300:
        return
    temporary = answer.status >= 500 or answer.status in RETRY_STATUSES
    raise DeliveryError(f"the SMS gateway answered HTTP {answer.status}", temporary=temporary)
