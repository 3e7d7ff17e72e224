"""The one error format: {"message", "code", "request_id", "meta"?} (the SDK's APIError shape)."""

import logging
import sys

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ServiceError(Exception):
    """Raised by services and selectors; rendered by the API, shown as a message in the admin."""

    status_code = status.HTTP_400_BAD_REQUEST
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, meta: dict | None = None, status_code=None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code
        self.meta = meta or {}


class ValidationFailed(ServiceError):
    code = "validation_error"


class NotFound(ServiceError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"


class Conflict(ServiceError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


class Gone(ServiceError):
    status_code = status.HTTP_410_GONE
    code = "gone"


def sentence(where: str, message: str) -> str:
    """``where`` and ``message`` as one sentence. Messages written to follow the name start with a
    small letter ("attribute[0].value is required.") or a colon ("users: at most 100,000 ids …"); a
    message that already names it is kept as it is; any other gets "where: " in front."""
    if not where or message.startswith(f"{where} "):
        return message
    if message.startswith(":"):
        return f"{where}{message}"
    if message[:1].islower():
        return f"{where} {message}"
    return f"{where}: {message}"


def error_body(message: str, code: str, request=None, meta: dict | None = None) -> dict:
    body = {"message": message, "code": code, "success": False}
    request_id = getattr(request, "request_id", None) if request is not None else None
    if request_id:
        body["request_id"] = request_id
    if meta:
        body["meta"] = meta
    return body


def first_message(detail) -> tuple[str, dict]:
    """Turn DRF's nested validation detail into one readable sentence plus the per-field errors."""
    if isinstance(detail, dict):
        parts = []

        def walk(prefix, value):
            if isinstance(value, dict):
                for key, sub in value.items():
                    walk(f"{prefix}.{key}" if prefix else str(key), sub)
            elif isinstance(value, list):
                if value and all(not isinstance(v, (dict, list)) for v in value):
                    field = prefix or "body"
                    label = "" if field == "non_field_errors" else f"{field}: "
                    parts.append(f"{label}{' '.join(str(v) for v in value)}")
                else:
                    for index, sub in enumerate(value):
                        if sub:
                            walk(f"{prefix}[{index}]", sub)
            else:
                parts.append(f"{prefix}: {value}")

        walk("", detail)
        return "; ".join(parts) or "Invalid input.", {"errors": detail}
    if isinstance(detail, list):
        return " ".join(str(d) for d in detail), {}
    return str(detail), {}


def exception_handler(exc, context):
    request = context.get("request")
    if isinstance(exc, ServiceError):
        body = error_body(exc.message, exc.code, request, exc.meta)
        if exc.status_code == 401:  # every 401 is the documented Unauthorized body, a service's too
            body["authenticated"] = False
        return Response(body, status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.APIException):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        if isinstance(exc, exceptions.ValidationError):
            message, meta = first_message(exc.detail)
            code = "validation_error"
        else:
            message, meta = first_message(exc.detail)
            code = exc.default_code if isinstance(exc.default_code, str) else "error"
        body = error_body(message, code, request, meta)
        if exc.status_code == 401:
            body["authenticated"] = False
        return Response(body, status=exc.status_code, headers=headers)
    return None  # a real bug: let Django log it and answer 500 via handler500


def json_error_view(status_code: int, message: str, code: str):
    """JSON errors for the API; the admin console keeps Django's HTML pages."""
    from django.views import defaults

    html_views = {400: defaults.bad_request, 403: defaults.permission_denied, 404: defaults.page_not_found}

    def view(request, exception=None):
        if status_code == 500:
            from core.api.unavailable import is_unavailable, unavailable_response

            error = sys.exc_info()[1]
            if is_unavailable(error):  # raised by a middleware (sessions, the admin's authentication)
                return unavailable_response(request, error)
        if request.path.startswith("/admin/"):
            if status_code == 500:
                return defaults.server_error(request)
            return html_views[status_code](request, exception)
        return JsonResponse(error_body(message, code, request), status=status_code)

    return view


handler400 = json_error_view(400, "Bad request.", "bad_request")
handler403 = json_error_view(403, "Forbidden.", "forbidden")
handler404 = json_error_view(404, "No such endpoint.", "not_found")
handler500 = json_error_view(500, "Internal server error.", "server_error")
