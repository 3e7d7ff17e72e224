"""The guarded outbound client (core.outbound) against a real local HTTP server."""

import socket

import pytest

from core import outbound
from core.files.downloads import DownloadError
from tests.core.test_downloads import CSV_BODY, https_server  # noqa: F401  (a fixture)
from tests.http_receiver import http_receiver


def _post(url, session=None, allowed=("localhost",)):
    return outbound.request("POST", url, body=b"{}", setting="url", allowed_hosts=list(allowed),
                            connect_timeout=2, timeout=5, max_bytes=1000, session=session)


def test_a_session_resolves_a_url_once_and_keeps_its_connection(monkeypatch):
    """A batch of webhooks to one receiver: one DNS lookup and one connection, not one per request."""
    lookups = []
    real = socket.getaddrinfo

    def counting(host, *args, **kwargs):
        lookups.append(host)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", counting)
    with http_receiver([200]) as receiver:
        with outbound.Session() as session:
            answers = [_post(receiver.url + "/hook", session) for _ in range(3)]
        assert [a.status for a in answers] == [200, 200, 200]
        assert lookups.count("localhost") == 1
        assert len({r.client_port for r in receiver.requests}) == 1
        _post(receiver.url + "/hook")
        _post(receiver.url + "/hook")
        assert lookups.count("localhost") == 3  # without a session, every request is vetted again


def test_a_session_still_refuses_a_private_address():
    with http_receiver([200]) as receiver:
        with outbound.Session() as session:
            for _ in range(2):
                with pytest.raises(DownloadError, match="private address"):
                    _post(receiver.url + "/hook", session, allowed=())
        assert receiver.requests == []


def test_https_checks_the_certificate_against_the_host_name_with_the_systems_authorities(https_server, monkeypatch):
    port, cert_file = https_server
    get = lambda host: outbound.request("GET", f"https://{host}:{port}/file.csv", setting="url",  # noqa: E731
                                        allowed_hosts=["localhost", "127.0.0.1"], connect_timeout=2, timeout=5,
                                        max_bytes=1000)
    with pytest.raises(outbound.Unreachable):  # self-signed: no authority the system trusts signed it
        get("localhost")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))  # the system's authorities, as Python's ssl reads them
    answer = get("localhost")  # connected to the vetted 127.0.0.1, the certificate checked for "localhost"
    assert answer.status == 200 and answer.body == CSV_BODY and answer.complete
    with pytest.raises(outbound.Unreachable):  # the certificate does not name 127.0.0.1
        get("127.0.0.1")


def test_answers_are_cut_at_max_bytes_and_no_proxy_of_the_environment_is_used(monkeypatch):
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")  # nothing listens there: used, it would refuse
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    with http_receiver([{"status": 200, "body": b"x" * 5000}]) as receiver:
        answer = _post(receiver.url + "/hook")
        assert answer.status == 200 and not answer.complete and answer.body == b"x" * 1000
        assert _post(receiver.url + "/hook").status == 200  # the next request, a new connection
        assert len(receiver.requests) == 2
