"""Reads of customer sessions, in the SDK's SessionListResponseInfo shape."""

from sessions_app import store
from sessions_app.schema import SessionInfo
from users.selectors import get_customer


def session_dict(session: store.Session) -> SessionInfo:
    return {
        "session_id": session.session_id,
        "user_agent": session.user_agent,
        "ip": session.ip,
        "domain": session.domain,
        "expire_in": str(session.expire_in),  # seconds left; a string in the SDK's schema
        "location": "",  # no geo-IP database: unknown
    }


def live_sessions(application, customer_id: str) -> list[store.Session]:
    """The customer's live sessions (404 for a customer unknown in the application)."""
    customer = get_customer(application, customer_id, field="id")
    return store.list_for_customer(application.id, customer.id)


def live_session_count(application) -> int:
    """Sessions of the application's customers that are live now (one ZCOUNT: store.live_count)."""
    return store.live_count(application.id)
