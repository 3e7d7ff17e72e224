"""``GET /metrics``: Prometheus' text format, for operators (docs/metrics.md). 404 while metrics are off; else the
caller needs METRICS_TOKEN as a bearer token and / or an address in METRICS_ALLOWED_IPS (the client's address,
core.api.proxy.client_ip: through a trusted proxy, the one it names)."""

import hmac
import os

from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from core.api.proxy import client_ip, in_networks, parse_networks
from core.metrics.collectors import ScrapeCollector

# The classic text format (every metric name here is a plain one), which every Prometheus version reads.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _refused(request, status: int, code: str, message: str) -> JsonResponse:
    response = JsonResponse({"message": message, "code": code, "success": False,
                             "request_id": getattr(request, "request_id", "")}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


class _ThisProcess:
    """Without multiprocess mode (a single process: runserver, the tests), this process's own metrics."""

    def collect(self):
        from prometheus_client import REGISTRY

        return REGISTRY.collect()


def registry():
    # imported here, not with the module: the URLconf imports this module in processes that have not chosen
    # prometheus-client's mode yet (Celery's start-up checks: core.metrics.multiprocess)
    from prometheus_client import CollectorRegistry

    collected = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(collected)
    else:
        collected.register(_ThisProcess())
    collected.register(ScrapeCollector())
    return collected


@require_GET
@transaction.non_atomic_requests
def metrics(request):
    if not settings.METRICS_ENABLED:
        raise Http404("Not found.")
    if settings.METRICS_ALLOWED_IPS:
        networks = parse_networks(tuple(settings.METRICS_ALLOWED_IPS), "METRICS_ALLOWED_IPS")
        if not in_networks(client_ip(request), networks):
            return _refused(request, 403, "metrics_address_refused", "This address may not read the metrics.")
    if settings.METRICS_TOKEN:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(),
                                                                  settings.METRICS_TOKEN.encode()):
            return _refused(request, 401, "metrics_token_required", "The metrics need the METRICS_TOKEN bearer token.")
    from prometheus_client import generate_latest

    response = HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response
