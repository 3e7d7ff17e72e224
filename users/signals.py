"""Signals other apps listen to, so that users/ never imports them."""

from django.dispatch import Signal

# Sent after the transaction that blocked or archived customers commits, with ``application_id``,
# ``customer_ids``, ``reason`` and ``actor`` (core.actors.Actor). sessions_app ends their sessions.
customer_access_revoked = Signal()
