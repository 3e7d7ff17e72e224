"""The Celery task that delivers one message: up to MESSAGE_MAX_ATTEMPTS attempts, the n-th retry after
MESSAGE_RETRY_BASE_SECONDS * 2**(n-1) seconds, one log line per attempt naming the kind, the channel and
the masked recipient (never the text, the code or the link)."""

import logging

from celery import shared_task
from django.conf import settings

from core.messages.delivery import deliver_now
from core.messages.errors import DeliveryError
from core.messages.masking import mask_recipient

logger = logging.getLogger(__name__)


@shared_task(bind=True, name="core.messages.tasks.deliver", max_retries=None)
def deliver(self, *, kind: str, channel: str, to: str, application_id: str, application_name: str,
            context: dict) -> str:
    """'sent' or 'failed' (given up); the retries in between are Celery's."""
    attempt, attempts = self.request.retries + 1, max(1, settings.MESSAGE_MAX_ATTEMPTS)
    about = f"message {kind} by {channel} to {mask_recipient(to)} (application {application_id})"
    try:
        deliver_now(kind, channel, to, application_id, application_name, context)
    except DeliveryError as exc:
        if not exc.temporary or attempt >= attempts:
            logger.error("%s: attempt %d/%d failed, giving up: %s", about, attempt, attempts, exc)
            return "failed"
        delay = settings.MESSAGE_RETRY_BASE_SECONDS * 2 ** (attempt - 1)
        logger.warning("%s: attempt %d/%d failed, retrying in %gs: %s", about, attempt, attempts, delay, exc)
        raise self.retry(countdown=delay, exc=exc) from None
    logger.info("%s: attempt %d/%d sent", about, attempt, attempts)
    return "sent"
