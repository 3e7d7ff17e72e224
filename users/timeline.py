"""The customer timeline (getUserTimeline): the audit events of one customer as the SDK's GetUserTimeline,
``{delete_on, timeline: [{date, title, type, visible, sub_title}]}``, newest first.

``type`` is the audit action (``customer.blocked``, ``session.deleted``, …); ``title`` says it in words;
``sub_title`` carries the details, the reason and who did it. ``delete_on`` is the date an archived
customer will be purged ("" for a live one). Session starts are listed with ``visible: false`` (they
are frequent and say little); everything else is visible.
"""

from core.timefmt import iso
from users.models import AuditEvent, Customer
from users import events
from users.schema import Timeline, TimelineItem

MAX_EVENTS = 200

TITLES = {
    events.CUSTOMER_CREATED: "Customer created",
    events.CUSTOMER_UPDATED: "Profile updated",
    events.CUSTOMER_BLOCKED: "Blocked",
    events.CUSTOMER_UNBLOCKED: "Unblocked",
    events.CUSTOMER_ARCHIVED: "Archived (deleted from the sales channel)",
    events.CUSTOMER_RESTORED: "Restored",
    events.CUSTOMER_PURGED: "Purged",
    events.SESSION_CREATED: "Session started",
    events.SESSION_DELETED: "Session ended",
    events.SESSIONS_DELETED: "All sessions ended",
    events.ATTRIBUTE_UPDATED: "Attribute set",
    events.ATTRIBUTE_DELETED: "Attribute removed",
    events.SIGNED_UP: "Signed up",
    events.SIGNED_IN: "Signed in",
    events.SIGN_IN_FAILED: "Sign-in failed",
    events.LOCKED_OUT: "Locked out",
    events.UNLOCKED: "Unlocked",
    events.PASSWORD_CHANGED: "Password changed",
    events.PASSWORD_RESET: "Password reset",
    events.CONTACT_ADDED: "Contact added",
    events.CONTACT_REMOVED: "Contact removed",
    events.CONTACT_VERIFIED: "Contact verified",
    events.ACCOUNT_DELETED: "Account deleted by the customer",
    events.SIGN_IN_TOKEN_ISSUED: "Sign-in token issued",
    events.IDENTITY_LINKED: "Social sign-in linked",
    events.IDENTITY_UNLINKED: "Social sign-in unlinked",
}
HIDDEN = {events.SESSION_CREATED}


def _details(event: AuditEvent) -> list[str]:
    data = event.data or {}
    action = event.action
    parts = []
    if data.get("source") == "import":
        parts.append(f"by import job {data.get('job_id', '')}".strip())
    if action == events.CUSTOMER_UPDATED:
        changed = sorted((data.get("changed") or {}).keys())
        if changed:
            parts.append("changed: " + ", ".join(changed))
    elif action == events.CUSTOMER_ARCHIVED and data.get("restore_until"):
        parts.append(f"restorable until {data['restore_until'][:10]}")
    elif action in (events.ATTRIBUTE_UPDATED, events.ATTRIBUTE_DELETED) and data.get("slug"):
        text = data["slug"]
        if action == events.ATTRIBUTE_UPDATED and "value" in data and not data.get("encrypted"):
            text += f" = {str(data['value'])[:80]}"
        parts.append(text)
    elif action == events.SESSIONS_DELETED and isinstance(data.get("session_ids"), list):
        parts.append(f"{len(data['session_ids'])} session(s)")
    elif action in (events.CUSTOMER_BLOCKED, events.CUSTOMER_UNBLOCKED) and data.get("unchanged"):
        parts.append("already so")
    return parts


def timeline_item(event: AuditEvent) -> TimelineItem:
    parts = _details(event)
    if event.reason:
        parts.append(f"reason: {event.reason[:300]}")
    who = event.actor_name or event.actor_id or event.actor_type
    if who:
        parts.append(f"by {who}")
    return {
        "date": iso(event.created_at),
        "title": TITLES.get(event.action, event.action.replace(".", " ").replace("_", " ").capitalize()),
        "type": event.action,
        "visible": event.action not in HIDDEN,
        "sub_title": " · ".join(parts),
    }


def events_of(customer: Customer, limit: int = MAX_EVENTS):
    return list(AuditEvent.objects.filter(application_id=customer.application_id, customer_id=customer.id)
                .order_by("-created_at", "-id")[:limit])


def customer_timeline(customer: Customer, limit: int = MAX_EVENTS) -> Timeline:
    return {
        "delete_on": iso(customer.restore_until) if customer.archived else "",
        "timeline": [timeline_item(event) for event in events_of(customer, limit)],
    }
