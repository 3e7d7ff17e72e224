"""A real HTTP server on 127.0.0.1 serving files, for the *_file_url features' tests and the bench.

    with serve_files({"/users.csv": b"user_id\\n..."}) as base:   # base = "http://localhost:<port>"
        ...  # with FILE_URL_ALLOWED_HOSTS = ["localhost"], since the address is a loopback one

A value may be bytes, or a ``Path`` streamed from disk in 1 MiB blocks (a million-row file).
"""

from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.local_http import serving


@contextmanager
def serve_files(files: dict[str, bytes | Path]):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            body = files.get(self.path.split("?", 1)[0])
            size = body.stat().st_size if isinstance(body, Path) else len(body or b"")
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(size))
            self.send_header("Content-Type", "text/csv")
            self.end_headers()
            if isinstance(body, Path):
                with body.open("rb") as handle:
                    while block := handle.read(1 << 20):
                        self.wfile.write(block)
            else:
                self.wfile.write(body or b"")

    with serving(Handler) as url:
        yield url
