"""Real delivery for the storefront SDK scenarios, readable from the node script: a real SMTP server
(tests/smtp_server.py), the SMS webhook receiver (tests/http_receiver.py) and a small HTTP inbox on
127.0.0.1 answering GET /messages?to=<email or +E.164> with {"texts": [...]}, oldest first (email plain
bodies, SMS texts). It reads only what has arrived: no waiting, so a message that was not delivered in
the request that sent it is missing for the script.

    with delivery(settings) as inbox:       # inbox.url for FDK_INBOX; inbox.texts_to(address)
        ...
"""

import json
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse

from tests.delivery import real_delivery
from tests.local_http import serving


class Inbox:
    def __init__(self, smtp, sms):
        self.smtp, self.sms = smtp, sms
        self.url = ""

    def texts_to(self, address: str) -> list[str]:
        if "@" in address:
            return [m.get_body(("plain",)).get_content() for m in list(self.smtp.messages) if m["To"] == address]
        bodies = (json.loads(r.body) for r in list(self.sms.requests))
        return [body["text"] for body in bodies if body["to"] == address]


@contextmanager
def _serve(inbox: Inbox):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            url = urlparse(self.path)
            address = parse_qs(url.query).get("to", [""])[0]
            status, answer = (200, {"texts": inbox.texts_to(address)}) if url.path == "/messages" and address \
                else (404, {"message": "GET /messages?to=<address>"})
            body = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with serving(Handler, host="127.0.0.1") as url:
        inbox.url = url
        yield inbox


@contextmanager
def delivery(settings):
    """Emails to the SMTP server, SMS to the receiver, each sent by a Celery task run eagerly in the live
    server's thread as the request's transaction commits (``settings``: pytest-django's fixture)."""
    with real_delivery(settings) as (smtp, sms), _serve(Inbox(smtp, sms)) as inbox:
        yield inbox
