"""core.files.downloads against a real local HTTP(S) server: the SSRF guard, redirects, limits, timeouts, CSV reading."""

import datetime
import io
import ipaddress
import socket
import ssl
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.files import downloads
from core.api.errors import ValidationFailed
from core.files.csvrows import open_csv
from core.files.downloads import DownloadError, download, is_public_address, vet_url

CSV_BODY = b"email,first_name\nasha@example.com,Asha\n\nravi@example.com,Ravi\n"


class Handler(BaseHTTPRequestHandler):
    seen_hosts: list = []

    def log_message(self, *args):
        pass

    def _send(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        Handler.seen_hosts.append(self.headers.get("Host"))
        port = self.server.server_address[1]
        routes = {
            "/file.csv": lambda: self._send(200, CSV_BODY, [("Content-Length", str(len(CSV_BODY))),
                                                           ("Content-Type", "text/csv")]),
            "/bom.csv": lambda: self._send(200, b"\xef\xbb\xbf" + CSV_BODY),
            "/latin1.csv": lambda: self._send(200, "name\nJos\xe9\n".encode("latin-1")),
            "/big": lambda: self._send(200, b"x" * 2000, [("Content-Length", "2000")]),
            "/big-no-length": lambda: self._send(200, b"x" * 2000),  # HTTP/1.0: the body ends at close
            "/lying-length": lambda: self._send(200, b"x" * 2000, [("Content-Length", "10")]),
            "/missing": lambda: self._send(404, b"no"),
            "/relative-redirect": lambda: self._send(302, headers=[("Location", "/file.csv")]),
            "/redirect-to-loopback": lambda: self._send(
                302, headers=[("Location", f"http://127.0.0.1:{port}/file.csv")]),
            "/redirect-loop": lambda: self._send(301, headers=[("Location", "/redirect-loop")]),
            "/redirect-without-location": lambda: self._send(302),
            "/drip": self._drip,
            "/hang": lambda: time.sleep(3),
        }
        routes.get(self.path, lambda: self._send(404))()

    def _drip(self):
        self.send_response(200)
        self.end_headers()
        for _ in range(30):
            try:
                self.wfile.write(b"x")
                self.wfile.flush()
            except OSError:
                return
            time.sleep(0.1)


def _serve(server):
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server


@pytest.fixture
def server():
    Handler.seen_hosts = []
    httpd = _serve(ThreadingHTTPServer(("127.0.0.1", 0), Handler))
    yield f"localhost:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def allow_localhost(settings):
    settings.FILE_URL_ALLOWED_HOSTS = ["localhost"]


def fetch(url) -> bytes:
    with download(url) as downloaded:
        return downloaded.file.read()


# --------------------------------------------------------------------------- the address rule

@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.9.9.9", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255", "192.0.2.10", "198.18.0.1",
    "::1", "::", "fe80::1", "fe80::1%eth0", "fc00::1", "fd12:3456::1", "ff02::1", "2001:db8::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "2002:7f00:1::1", "64:ff9b::7f00:1",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",
])
def test_private_and_special_addresses_are_refused(address):
    assert is_public_address(address) is False


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111",
                                     "::ffff:8.8.8.8", "64:ff9b::808:808"])
def test_public_addresses_pass(address):
    assert is_public_address(address) is True
    assert is_public_address(ipaddress.ip_address(address.split("%")[0])) is True


@pytest.mark.parametrize("url", ["http://127.0.0.1/x", "http://[::1]/x", "http://[::ffff:127.0.0.1]/x",
                                 "http://169.254.169.254/latest/meta-data/", "https://10.0.0.5/x",
                                 "http://0.0.0.0:8000/", "http://[fe80::1]/", "http://localhost/x"])
def test_urls_to_private_addresses_are_refused(url):
    with pytest.raises(DownloadError, match="file_url points to a private address"):
        vet_url(url)


@pytest.mark.parametrize("url", ["ftp://example.com/a.csv", "file:///etc/passwd", "gopher://x/", "example.com/a.csv",
                                 "", "javascript:alert(1)"])
def test_only_http_and_https_are_fetched(url):
    with pytest.raises(DownloadError, match="http or https URL"):
        vet_url(url)


def test_malformed_urls_are_refused():
    for url in ("http:///nohost", "http://[::1/x", "http://example.com:99999/"):
        with pytest.raises(DownloadError):
            vet_url(url)


def test_an_unresolvable_host_is_a_clear_error():
    with pytest.raises(DownloadError, match="does not resolve"):
        vet_url("http://no-such-host.invalid/x.csv")


def test_the_field_is_named_in_errors():
    with pytest.raises(DownloadError, match="attribute_file_url points to a private address") as info:
        vet_url("http://127.0.0.1/x", "attribute_file_url")
    assert info.value.status_code == 400 and info.value.code == "file_url_invalid"


# --------------------------------------------------------------------------- against a real server

def test_loopback_server_is_refused_by_default(server):
    with pytest.raises(DownloadError, match="private address"):
        fetch(f"http://{server}/file.csv")
    assert Handler.seen_hosts == []  # refused before connecting


def test_allowed_host_downloads(server, allow_localhost):
    with download(f"http://{server}/file.csv") as downloaded:
        assert (downloaded.size, downloaded.content_type) == (len(CSV_BODY), "text/csv")
        assert downloaded.file.read() == CSV_BODY
    assert Handler.seen_hosts == [server]  # the Host header names the host, not the address


def test_allowed_hosts_match_any_case_and_brackets(server, settings):
    settings.FILE_URL_ALLOWED_HOSTS = ["LOCALHOST."]
    assert fetch(f"http://{server}/file.csv") == CSV_BODY


def test_connects_to_the_vetted_address_without_a_second_lookup(server, settings, monkeypatch):
    """DNS rebinding: the name is resolved once; a second answer (here unroutable) is never asked for."""
    port = int(server.split(":")[1])
    settings.FILE_URL_ALLOWED_HOSTS = ["files.example"]
    real_getaddrinfo = socket.getaddrinfo
    answers = iter(["127.0.0.1", "10.255.255.1"])
    lookups = []

    def fake_getaddrinfo(host, *args, **kwargs):
        if host == "files.example":
            lookups.append(host)
            return real_getaddrinfo(next(answers), *args, **kwargs)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    assert fetch(f"http://files.example:{port}/file.csv") == CSV_BODY
    assert lookups == ["files.example"]
    assert Handler.seen_hosts == [f"files.example:{port}"]


def test_a_public_name_resolving_to_a_private_address_is_refused(monkeypatch):
    real_getaddrinfo = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: real_getaddrinfo(
        "10.0.0.7" if host == "innocent.example" else host, *a, **k))
    with pytest.raises(DownloadError, match="private address"):
        vet_url("https://innocent.example/data.csv")


def test_http_errors_are_named(server, allow_localhost):
    with pytest.raises(DownloadError, match=r"could not fetch file_url: HTTP 404"):
        fetch(f"http://{server}/missing")


def test_redirects_are_followed_and_vetted(server, allow_localhost, settings):
    assert fetch(f"http://{server}/relative-redirect") == CSV_BODY
    with pytest.raises(DownloadError, match="private address"):  # 127.0.0.1 is not an allowed host
        fetch(f"http://{server}/redirect-to-loopback")
    with pytest.raises(DownloadError, match="more than 5 redirects"):
        fetch(f"http://{server}/redirect-loop")
    with pytest.raises(DownloadError, match="without a Location"):
        fetch(f"http://{server}/redirect-without-location")
    settings.FILE_DOWNLOAD_MAX_REDIRECTS = 0
    with pytest.raises(DownloadError, match="more than 0 redirects"):
        fetch(f"http://{server}/relative-redirect")


def test_size_limit_with_and_without_content_length(server, allow_localhost, settings):
    settings.FILE_DOWNLOAD_MAX_BYTES = 1000
    for path in ("/big", "/big-no-length"):
        with pytest.raises(DownloadError, match="the file at file_url is larger than 1000 bytes"):
            fetch(f"http://{server}{path}")
    settings.FILE_DOWNLOAD_MAX_BYTES = 2000
    assert len(fetch(f"http://{server}/big-no-length")) == 2000


def test_a_lying_content_length_is_not_trusted(server, allow_localhost, settings):
    settings.FILE_DOWNLOAD_MAX_BYTES = 1000
    try:
        body = fetch(f"http://{server}/lying-length")
    except DownloadError:
        return  # refused: fine too
    assert len(body) <= 1000


def test_overall_deadline(server, allow_localhost, settings):
    settings.FILE_DOWNLOAD_TIMEOUT_SECONDS = 1
    for path in ("/drip", "/hang"):  # a body trickling in, and no answer at all
        started = time.monotonic()
        with pytest.raises(DownloadError, match="could not fetch file_url: .*(1 seconds|in time)"):
            fetch(f"http://{server}{path}")
        assert time.monotonic() - started < 2.5


def test_connection_refused(allow_localhost):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once closed
    with pytest.raises(DownloadError, match="cannot connect to localhost"):
        fetch(f"http://localhost:{port}/x.csv")


# --------------------------------------------------------------------------- HTTPS: SNI and the certificate

def _certificate(tmp_path, name: str):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture
def https_server(tmp_path):
    cert_file, key_file = _certificate(tmp_path, "localhost")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    _serve(httpd)
    yield httpd.server_address[1], cert_file
    httpd.shutdown()
    httpd.server_close()


def test_https_checks_the_certificate_for_the_host_name(https_server, settings, monkeypatch):
    port, cert_file = https_server
    settings.FILE_URL_ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    with pytest.raises(DownloadError, match="TLS failed"):  # self-signed: not trusted by default
        fetch(f"https://localhost:{port}/file.csv")

    real_context = ssl.create_default_context
    monkeypatch.setattr(downloads.ssl, "create_default_context", lambda: real_context(cafile=str(cert_file)))
    # Connected to 127.0.0.1, yet SNI and the certificate check use "localhost": accepted.
    assert fetch(f"https://localhost:{port}/file.csv") == CSV_BODY
    # The certificate does not name 127.0.0.1: refused.
    with pytest.raises(DownloadError, match="TLS failed"):
        fetch(f"https://127.0.0.1:{port}/file.csv")


# --------------------------------------------------------------------------- CSV

@contextmanager
def open_csv_url(url):
    with download(url) as downloaded, open_csv(downloaded.file, source="the file at file_url") as rows:
        yield rows


def test_open_csv_url_reads_rows_with_numbers(server, allow_localhost):
    for path in ("/file.csv", "/bom.csv"):
        with open_csv_url(f"http://{server}{path}") as rows:
            assert rows.header == ["email", "first_name"]
            assert rows.missing_columns("email", "phone") == ["phone"]
            # The header is row 1; the blank line (row 3) is skipped.
            assert list(rows) == [(2, {"email": "asha@example.com", "first_name": "Asha"}),
                                  (4, {"email": "ravi@example.com", "first_name": "Ravi"})]


def test_open_csv_url_refuses_text_that_is_not_utf8(server, allow_localhost):
    with pytest.raises(ValidationFailed, match="not UTF-8"):
        with open_csv_url(f"http://{server}/latin1.csv") as rows:
            list(rows)


@pytest.mark.parametrize("body, message", [
    (b"", "is empty"),
    (b"\n\n", "is empty"),
    (b"a,b,a\n1,2,3\n", "names the column(s) a more than once"),
    (b'a,b\n"unterminated,2\n', "not valid CSV"),
])
def test_csv_problems_are_validation_errors(body, message):
    with pytest.raises(ValidationFailed, match=message.replace("(", r"\(").replace(")", r"\)")):
        with open_csv(io.BytesIO(body), source="the file") as rows:
            list(rows)


def test_csv_short_and_long_rows():
    with open_csv(io.BytesIO(b"a,b\n 1 \n1,2,3\n")) as rows:
        assert list(rows) == [(2, {"a": "1", "b": ""}), (3, {"a": "1", "b": "2"})]
