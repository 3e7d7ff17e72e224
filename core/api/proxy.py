"""Behind a proxy (docs/proxy.md): what a request says about itself counts only when it comes from a trusted proxy.

``settings.TRUSTED_PROXIES`` lists the addresses and networks of the proxies (load balancers) in front of the
service. Django is set to follow ``X-Forwarded-Proto`` (``SECURE_PROXY_SSL_HEADER``) and ``X-Forwarded-Host``
(``USE_X_FORWARDED_HOST``); ``TrustedProxyMiddleware`` removes those headers from every request whose peer
(``REMOTE_ADDR``) is not a trusted proxy, so that a client connecting directly cannot choose the scheme or host
of the links and redirects made for it (the host still has to be one of ALLOWED_HOSTS). gunicorn trusts the
same list for its own scheme headers (``forwarded_allow_ips`` in config/gunicorn.conf.py).

``client_ip`` is the one answer to "who is the client" (rate limits, lockout, sessions, the /metrics address
check): from a trusted proxy, the right-most address of ``X-Forwarded-For`` (or settings.TRUSTED_CLIENT_IP_HEADER)
that is not itself a trusted proxy — the left-hand part of that header is whatever the client sent; from anyone
else, REMOTE_ADDR.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

FORWARDED_HEADERS = ("HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PORT")


@lru_cache(maxsize=8)
def parse_networks(entries: tuple[str, ...], setting: str = "TRUSTED_PROXIES") -> tuple:
    """Addresses and CIDR networks (``10.0.0.0/8``, ``2001:db8::/32``, ``192.0.2.7``) as ip_network objects."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(f"{setting}: {entry!r} is neither an IP address nor a CIDR network") from None
    return tuple(networks)


def _networks() -> tuple:
    return parse_networks(tuple(settings.TRUSTED_PROXIES))


def in_networks(address: str, networks: tuple) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


def is_trusted_peer(remote_addr: str) -> bool:
    """Whether the connection's peer is a trusted proxy. A peer without an IP address (gunicorn bound to a Unix
    socket: only local processes connect) counts as one, as gunicorn itself has it."""
    if not remote_addr:
        return True
    try:
        ipaddress.ip_address(remote_addr)
    except ValueError:
        return True
    return in_networks(remote_addr, _networks())


def _header_key(name: str) -> str:
    return "HTTP_" + name.upper().replace("-", "_")


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, unless the peer is a trusted proxy and names the client in
    X-Forwarded-For (settings.TRUSTED_CLIENT_IP_HEADER): then, reading it from the right, the first address that
    is not a trusted proxy (all trusted: the left-most; an entry that is no address stops the walk at the last
    good one)."""
    meta = request.META
    remote = meta.get("REMOTE_ADDR", "")
    header = settings.TRUSTED_CLIENT_IP_HEADER or "X-Forwarded-For"
    value = meta.get(_header_key(header))
    if not value or not is_trusted_peer(remote):
        return remote
    networks = _networks()
    found = remote
    for entry in reversed(value.split(",")):
        candidate = entry.strip()
        if candidate.startswith("[") and "]" in candidate:  # [2001:db8::1]:443
            candidate = candidate[1:candidate.index("]")]
        elif candidate.count(":") == 1:  # 192.0.2.1:5678
            candidate = candidate.split(":", 1)[0]
        try:
            candidate = str(ipaddress.ip_address(candidate))
        except ValueError:
            return found
        found = candidate
        if not in_networks(candidate, networks):
            return candidate
    return found


class TrustedProxyMiddleware:
    """First in MIDDLEWARE: from a peer that is not a trusted proxy, X-Forwarded-Proto / -Host / -Port are
    dropped (Django would otherwise believe them); from a trusted one, X-Forwarded-Host keeps its first value
    only (a chain of proxies may add theirs after it)."""

    def __init__(self, get_response):
        self.get_response = get_response
        _networks()  # a bad TRUSTED_PROXIES fails at start-up, not on a request

    def __call__(self, request):
        meta = request.META
        if not is_trusted_peer(meta.get("REMOTE_ADDR", "")):
            for key in FORWARDED_HEADERS:
                meta.pop(key, None)
        elif "," in meta.get("HTTP_X_FORWARDED_HOST", ""):
            meta["HTTP_X_FORWARDED_HOST"] = meta["HTTP_X_FORWARDED_HOST"].split(",", 1)[0].strip()
        return self.get_response(request)
