"""Blocking or archiving a customer ends all their sessions at once."""

import logging

from django.dispatch import receiver

from core.actors import Actor
from sessions_app import services
from users.signals import customer_access_revoked

logger = logging.getLogger(__name__)


@receiver(customer_access_revoked, dispatch_uid="sessions_app.end_sessions_of_revoked")
def end_sessions_of_revoked(sender, *, application_id, customer_ids, reason="", actor=None, **kwargs):
    try:
        services.end_sessions_of_revoked(application_id, list(customer_ids), reason or "access revoked",
                                         actor or Actor.system("customer_access_revoked"))
    except Exception:  # Redis down: the storefront still refuses blocked / archived customers on every request
        logger.exception("could not end the sessions of customers %s of application %s",
                         list(customer_ids)[:20], application_id)
