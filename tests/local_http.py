"""A real HTTP server on a free loopback port for the tests' stand-ins (file server, SMS receiver, OAuth
provider, SDK inbox): served from a thread, shut down on exit. Handler threads are daemons and are not
joined at close, so a client that gave up waiting (the timeout tests) never holds a test back."""

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):  # a client that gave up
            super().handle_error(request, client_address)


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler], *, host: str = "localhost") -> Iterator[str]:
    """The server's base URL (``http://<host>:<port>``) while the block runs."""
    # answers go out at once: http.server writes the head and the body apart, and with Nagle's algorithm
    # the body waited for the client's delayed ACK, 40 ms per request on a kept-alive connection
    handler = type(handler.__name__, (handler,), {"disable_nagle_algorithm": True})
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
