"""Platform-issued sign-in tokens and loginWithToken (docs/accounts.md, "Sign-in tokens (loginWithToken)").

The merchant's backend (or staff, through ``manage.py issue_sign_in_token``) asks for a token for one
customer of an application: a "magic link" it sends itself, or a hand-off from its app to the web store.
The token is 256 random bits, kept in Redis only as its SHA-256 (accounts.secrets, kind ``sign_in``),
bound to the application, alive SIGN_IN_TOKEN_SECONDS (or ``expires_in``, at most an hour), and used up
by the first loginWithToken that presents it (GETDEL). Issuing is audited on the customer's timeline
(``sign_in_token.issued``, naming the API client or staff user); the sign-in itself is the usual
``account.signed_in`` with method ``token``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from accounts import limits, secrets, services
from accounts.services import Outcome, Visit
from core.actors import Actor
from core.api.errors import Conflict, ValidationFailed
from users import events
from users import services as customer_services
from users.selectors import customer_with_contacts, get_customer

KIND = "sign_in"
MAX_SECONDS = 3600


@dataclass(frozen=True)
class IssuedSignInToken:
    token: str
    expires_in: int
    expires_at: datetime


def lifetime(expires_in=None) -> int:
    """The token's lifetime in seconds: ``expires_in`` (1 to MAX_SECONDS) or SIGN_IN_TOKEN_SECONDS."""
    if expires_in is None:
        return min(MAX_SECONDS, max(1, int(settings.SIGN_IN_TOKEN_SECONDS)))
    if isinstance(expires_in, bool) or not isinstance(expires_in, int) or not 1 <= expires_in <= MAX_SECONDS:
        raise ValidationFailed(f"expires_in must be a whole number of seconds between 1 and {MAX_SECONDS}.")
    return expires_in


def issue_sign_in_token(application, user_id, actor: Actor, *, expires_in: int | None = None) -> IssuedSignInToken:
    """A single-use sign-in token for the customer ``user_id`` of ``application``: 400 for a malformed id,
    404 for an unknown one, 409 ``customer_archived`` / ``customer_blocked`` for a customer who could not
    sign in with it. Audited (never the token itself)."""
    ttl = lifetime(expires_in)
    customer = get_customer(application, user_id)
    if customer.archived:
        raise Conflict(f"Customer {customer.id} is archived: restore the customer before issuing a sign-in token.",
                       code="customer_archived")
    if not customer.active:
        raise Conflict(f"Customer {customer.id} is blocked: unblock the customer before issuing a sign-in token.",
                       code="customer_blocked")
    token = secrets.issue_token(KIND, application.id, {"customer_id": customer.id}, ttl)
    expires_at = timezone.now() + timedelta(seconds=ttl)
    customer_services.record_event(customer.id, application.id, events.SIGN_IN_TOKEN_ISSUED, actor,
                                   data={"expires_in": ttl, "expires_at": expires_at.isoformat()})
    return IssuedSignInToken(token=token, expires_in=ttl, expires_at=expires_at)


def login_with_token(visit: Visit, token) -> Outcome:
    """loginWithToken: the token is taken (used up whatever follows), and its customer, still live and
    active, signed in. Unknown, used, expired or another application's token: 401 ``token_invalid``."""
    config = services.config_of(visit.application)
    services.require_active(config)
    limits.check("token_login", ip=visit.ip)
    if not isinstance(token, str) or not token.strip():
        raise ValidationFailed("token is required.")
    try:
        data = secrets.take_token(KIND, visit.application.id, token.strip())
    except secrets.TokenInvalid:
        raise services.unauthorized("The sign-in token is invalid, already used or expired.", "token_invalid")
    customer_id = data.get("customer_id")
    customer = customer_with_contacts(visit.application.id, customer_id) if customer_id else None
    if customer is None or customer.archived or not customer.active:
        raise services.forbidden("This account cannot sign in.", "account_unavailable")
    return Outcome({}, services.sign_in(visit, customer, "token", reload=False, config=config))
