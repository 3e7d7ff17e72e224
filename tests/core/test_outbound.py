"""The guarded outbound client (core.outbound) against a real local HTTP server."""

import socket

import pytest

from core import outbound
from core.files.downloads import DownloadError
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
