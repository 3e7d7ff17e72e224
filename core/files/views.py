"""/files/<token>: downloads through signed, expiring links (core/files/storage.py). No login: the token is the key."""

from django.db import transaction
from django.http import FileResponse, JsonResponse
from django.views.decorators.http import require_GET

from core import files
from core.api.errors import ServiceError, error_body


@require_GET
@transaction.non_atomic_requests
def download_file(request, token):
    try:
        name = files.name_from_token(token)
        handle, size = files.open_stream(name)
    except ServiceError as exc:
        return JsonResponse(error_body(exc.message, exc.code, request), status=exc.status_code)
    # Streamed 64 KB at a time from the disk or from the object store's answer as it arrives, never whole in memory.
    response = FileResponse(handle, as_attachment=True, filename=files.download_name(name))
    response.block_size = 64 * 1024
    response["Content-Length"] = str(size)
    response["Cache-Control"] = "private, no-store"  # the link is a credential: keep it out of shared caches
    return response
