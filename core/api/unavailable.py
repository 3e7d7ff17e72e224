"""PostgreSQL or Redis out of reach: a 503 in the error format with ``Retry-After``, and one log line per
request (request id, method, path, error class) instead of a 500 with a traceback each.

``UnavailableMiddleware`` answers for what a view raises (the request's transaction, a query, a Redis call);
``handler500`` (core.api.errors) for what an inner middleware raises (sessions, authentication of the admin);
``ShortenUnavailable`` (settings.LOGGING) drops the traceback Django's request log would add in that case."""

import logging

import redis
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse

logger = logging.getLogger("core.unavailable")

MESSAGE = "The service is briefly unavailable (its database or cache is out of reach): try again shortly."


def is_unavailable(exc: BaseException | None) -> bool:
    """An error of the infrastructure, not of the request: a lost or refused PostgreSQL or Redis connection."""
    return isinstance(exc, (OperationalError, InterfaceError, redis.ConnectionError, redis.TimeoutError))


def unavailable_response(request, exc: BaseException) -> JsonResponse:
    request_id = getattr(request, "request_id", "")
    match = getattr(request, "resolver_match", None)
    operation = (match.view_name if match is not None else "") or "unmatched"  # the route's name
    logger.warning("unavailable request_id=%s %s %s operation=%s error=%s", request_id, request.method, request.path,
                   operation, type(exc).__name__,
                   extra={"request_id": request_id, "method": request.method, "path": request.path,
                          "operation": operation, "error": type(exc).__name__})
    body = {"message": MESSAGE, "code": "service_unavailable", "success": False, "request_id": request_id}
    response = JsonResponse(body, status=503)
    response["Retry-After"] = str(settings.UNAVAILABLE_RETRY_AFTER_SECONDS)
    return response


class UnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        return unavailable_response(request, exception) if is_unavailable(exception) else None


class ShortenUnavailable(logging.Filter):
    """Drops Django's request-log records of an outage: the "Service Unavailable" line of each 503 and the
    "Internal Server Error" traceback of an infrastructure error (unavailable_response logged the request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 503:
            return False
        return not (record.exc_info and is_unavailable(record.exc_info[1]))
