"""Customer sessions: create, end, end all, renew. The platform API, the storefront, the commands and
the block / archive signal all call these. Sessions themselves live in Redis (sessions_app/store.py);
audit events go to the customer's timeline (users.services.record_event)."""

import logging

from core.actors import Actor
from core.api.errors import Conflict, NotFound, ValidationFailed
from sessions_app import store
from sessions_app.platform_config import session_settings, session_settings_of
from users.selectors import get_customer
from users.services import record_event
from users import events

logger = logging.getLogger(__name__)

MAX_SESSION_SECONDS = 10 * 365 * 24 * 3600


def _require_reason(reason) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed("reason is required.")
    return reason.strip()[:1000]


def create_session(application, customer_id: str, *, max_age: int | None = None, domain: str = "", ip: str = "",
                   user_agent: str = "", actor: Actor, audit: bool = True, customer=None,
                   session_config: dict | None = None) -> tuple[store.Session, str]:
    """A new session of an active, live customer; returns it with the signed ``f.session`` cookie value.

    Lifetime: ``max_age`` seconds when given, else the application's session config. ``audit`` False: the
    caller records the event itself (a storefront sign-in records one ``account.signed_in`` naming the
    session, not two events). A caller that has just read the customer (of this application) and the
    platform config passes them (``customer``, ``session_config``) instead of having them read again."""
    session = new_session(application, customer_id, max_age=max_age, domain=domain, ip=ip, user_agent=user_agent,
                          customer=customer, session_config=session_config)
    store.save(session)
    if audit:
        record_event(session.customer_id, application.id, events.SESSION_CREATED, actor,
                     data={"session_id": session.session_id, "max_age": session.max_age, "domain": session.domain})
    return session, store.sign(session.session_id)


def new_session(application, customer_id: str, *, max_age: int | None = None, domain: str = "", ip: str = "",
                user_agent: str = "", customer=None, session_config: dict | None = None) -> store.Session:
    """create_session's checks and session, not stored yet: a caller that stores it in its own script
    (store.SAVE_LUA, e.g. with the code that signs the customer in) records the event itself."""
    if customer is None or customer.id != customer_id or customer.application_id != application.id:
        customer = get_customer(application, customer_id)
    if customer.archived:
        raise Conflict(f"Customer {customer_id} is archived; archived customers cannot have sessions.",
                       code="user_archived")
    if not customer.active:
        raise Conflict(f"Customer {customer_id} is blocked; blocked customers cannot have sessions.",
                       code="user_blocked")
    default_lifetime, rolling = (session_settings(application) if session_config is None  # one read of the config
                                 else session_settings_of(session_config))
    if max_age is None:
        max_age = default_lifetime
    if isinstance(max_age, bool) or not isinstance(max_age, int) or not 0 < max_age <= MAX_SESSION_SECONDS:
        raise ValidationFailed(f"max_age must be a whole number of seconds between 1 and {MAX_SESSION_SECONDS}.")
    return store.new(application_id=application.id, customer_id=customer.id, max_age=max_age, rolling=rolling,
                     domain=domain[:253], ip=ip[:64], user_agent=user_agent[:512])


def end_session(application, customer_id: str, session_id: str, reason: str, actor: Actor) -> str:
    """Ends one session of the customer; 404 when the customer or the session is unknown."""
    reason = _require_reason(reason)
    if not isinstance(session_id, str) or not session_id or len(session_id) > 200:
        raise ValidationFailed("session_id is required.")
    customer = get_customer(application, customer_id, field="id")
    if not store.delete(application.id, customer.id, session_id):
        raise NotFound(f"No live session {session_id} of customer {customer.id}.", code="session_not_found")
    record_event(customer.id, application.id, events.SESSION_DELETED, actor, reason=reason,
                 data={"session_id": session_id})
    return session_id


def end_all_sessions(application, customer_id: str, reason: str, actor: Actor) -> list[str]:
    """Ends every session of the customer; returns the ids that were live (404 for an unknown customer)."""
    reason = _require_reason(reason)
    customer = get_customer(application, customer_id, field="id")
    session_ids = store.delete_all(application.id, customer.id)
    record_event(customer.id, application.id, events.SESSIONS_DELETED, actor, reason=reason,
                 data={"session_ids": session_ids})
    return session_ids


def end_sessions_of_revoked(application_id: str, customer_ids: list[str], reason: str, actor: Actor) -> int:
    """Blocking or archiving customers ends all their sessions (called after the change commits)."""
    ended = 0
    for customer_id in customer_ids:
        session_ids = store.delete_all(application_id, customer_id)
        if session_ids:
            ended += len(session_ids)
            record_event(customer_id, application_id, events.SESSIONS_DELETED, actor, reason=reason,
                         data={"session_ids": session_ids})
    return ended


def logout(session: store.Session, actor: Actor) -> bool:
    """The storefront's logout: ends the session it came with."""
    ended = store.delete(session.application_id, session.customer_id, session.session_id)
    if ended:
        record_event(session.customer_id, session.application_id, events.SESSION_DELETED, actor, reason="logout",
                     data={"session_id": session.session_id})
    return ended


def renew_if_rolling(session: store.Session) -> bool:
    """A rolling session lives its full lifetime again from each storefront request."""
    if not session.rolling:
        return False
    return store.renew(session)
