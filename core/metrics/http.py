"""Requests per operation, method and status, with their latency (``customer_service_http_request_duration_seconds``).

The operation is the OpenAPI ``operationId`` of the DRF view's method (``getCustomers``), else the URL's name
(``whoami``, ``healthz``, ``admin:index``), never the raw path: a few hundred series at most, whatever is asked.
It is worked out once per route and method in each process; a request then costs two clock reads, a dict lookup
and two additions in a memory-mapped file (bench/metrics.py measures it beside the framework floor).
"""

import logging
import time

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed

from core.api.proxy import parse_networks
from core.metrics.instruments import Histogram

logger = logging.getLogger(__name__)

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
REQUESTS = Histogram(
    "http_request_duration_seconds",
    "Requests from their arrival in Django to their answer, per operation (OpenAPI operationId, else the URL's "
    "name), method and status; _count counts the requests.",
    ("operation", "method", "status"), buckets=BUCKETS)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

_operations: dict[tuple[str, str], str] = {}


def _explicit_operation_id(match, method: str) -> str | None:
    """The operationId the view's method declares (@extend_schema(operation_id=…)); None when drf-spectacular
    would only make one up from the path."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.openapi import AutoSchema
    from rest_framework.viewsets import ViewSetMixin

    view = SchemaGenerator().create_view(match.func, method)
    handler = getattr(view, view.action if isinstance(view, ViewSetMixin) else method.lower(), None)
    schema_class = getattr(handler, "kwargs", {}).get("schema")
    if not (isinstance(schema_class, type) and issubclass(schema_class, AutoSchema)):
        return None
    schema = schema_class()
    schema.view = view
    schema.path, schema.path_regex, schema.path_prefix, schema.method = "/" + match.route, match.route, "", method
    operation_id = schema.get_operation_id()
    return operation_id if operation_id != AutoSchema.get_operation_id(schema) else None


def operation_name(match, method: str) -> str:
    """The label of a resolved request (cached per route and method)."""
    key = (match.route, method)
    name = _operations.get(key)
    if name is None:
        name = None
        if getattr(match.func, "cls", None) is not None:
            try:
                name = _explicit_operation_id(match, method)
            except Exception:  # a view drf-spectacular cannot read: its URL name will do
                logger.debug("no operationId for %s %s", method, match.route, exc_info=True)
        name = _operations[key] = name or match.view_name or match.route or "unnamed"
    return name


def operation_of(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:  # not routed: WhiteNoise's static files, a 404, a request refused before routing
        return "static" if request.path_info.startswith(settings.STATIC_URL) else "unmatched"
    method = request.method if request.method in METHODS else "GET"
    return operation_name(match, method)


class MetricsMiddleware:
    """First in MIDDLEWARE, so that the time includes every other middleware. Not used when metrics are off."""

    def __init__(self, get_response):
        if not settings.METRICS_ENABLED:
            raise MiddlewareNotUsed
        parse_networks(tuple(settings.METRICS_ALLOWED_IPS), "METRICS_ALLOWED_IPS")  # a bad entry fails at start-up
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        try:
            method = request.method if request.method in METHODS else "other"
            REQUESTS.labels(operation_of(request), method, response.status_code).observe(
                time.perf_counter() - started)
        except Exception:  # the metrics never fail a request
            logger.exception("request metrics")
        return response
