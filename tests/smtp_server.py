"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the tests, keeping what it receives:

    with smtp_server() as server:          # server.port; server.messages: [email.message.EmailMessage]
        ...                                # EMAIL_HOST = "127.0.0.1", EMAIL_PORT = server.port
        server.wait_for(1)                 # a worker delivers in another process
"""

import logging
import socket
import threading
import time
from contextlib import contextmanager
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller

logging.getLogger("mail.log").setLevel(logging.WARNING)  # the test server's own log: every line it receives


class Inbox:
    def __init__(self):
        self.messages = []
        self.envelopes = []  # (mail_from, [rcpt_tos])
        self._lock = threading.Lock()
        self.port = None

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 30):
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.messages)} message(s) arrived, {count} expected")
            time.sleep(0.05)
        return self.messages


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server():
    inbox = Inbox()
    inbox.port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
