"""API plumbing shared by every app's views: body validation, /healthz."""

from django.db import connection, transaction
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from core.api.errors import ValidationFailed


@require_GET
@transaction.non_atomic_requests
def healthz(request):
    """200 when PostgreSQL and Redis answer; 503 naming the part that does not."""
    import redis
    from django.conf import settings

    result = {"status": "ok", "database": "ok", "broker": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any failure means "down", whatever the driver raises
        result["database"] = f"error: {type(exc).__name__}"
        connection.close()
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
    except Exception as exc:
        result["broker"] = f"error: {type(exc).__name__}"
    healthy = result["database"] == "ok" and result["broker"] == "ok"
    if not healthy:
        result["status"] = "error"
    return JsonResponse(result, status=200 if healthy else 503)


class OwnTransactions:
    """A view mixin for calls whose service makes its own transactions (every multi-row write atomic on its
    own): no transaction around the whole request (ATOMIC_REQUESTS is on), so the storefront's sign-ins
    spend no BEGIN / COMMIT (or ROLLBACK) round trips. Messages queued with on_commit then go at once."""

    @classmethod
    def as_view(cls, **initkwargs):
        return transaction.non_atomic_requests(super().as_view(**initkwargs))


def validated(serializer_class, request, *, partial: bool = False) -> dict:
    """The request body checked by a serializer; 400 (one error format) for anything else than a valid
    JSON object."""
    if not isinstance(request.data, dict):
        raise ValidationFailed("The request body must be a JSON object.")
    serializer = serializer_class(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
