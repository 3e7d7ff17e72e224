"""A real HTTP server on 127.0.0.1 standing in for an SMS provider or a webhook receiver: it records every
request and answers with the given statuses in turn (the last one repeats). A status may be a dict
``{"status": 429, "headers": {"Retry-After": "120"}, "delay": 2.0, "body": b"…"}``: extra headers, seconds to
wait before answering (a receiver that times out), the answer's body.

    with http_receiver([500, 200]) as receiver:     # receiver.url = "http://localhost:<port>"
        ...                                          # with the host allow-listed (a loopback address)
        receiver.requests[0].body, .headers, .path, .method
"""

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from tests.local_http import serving


@dataclass
class Received:
    method: str
    path: str
    headers: dict  # names in lower case
    body: bytes
    client_port: int = 0  # the same for requests over one kept-alive connection


class Receiver:
    def __init__(self, statuses):
        self.statuses = list(statuses)
        self.requests: list[Received] = []
        self.url = ""

    def next_answer(self) -> dict:
        index = min(len(self.requests), len(self.statuses)) - 1
        answer = self.statuses[index]
        return answer if isinstance(answer, dict) else {"status": answer}


@contextmanager
def http_receiver(statuses=(200,)):
    receiver = Receiver(statuses)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keeps the connection open between requests (Content-Length is sent)

        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver.requests.append(Received("POST", self.path, headers, body, self.client_address[1]))
                planned = receiver.next_answer()
            time.sleep(planned.get("delay", 0))
            status = planned["status"]
            answer = planned.get("body") or (
                b'{"sid": "SM0001", "status": "queued"}' if status < 300 else b'{"message": "failed"}')
            self.send_response(status)
            for name, value in planned.get("headers", {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    with serving(Handler) as url:
        receiver.url = url
        yield receiver
