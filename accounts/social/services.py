"""Social sign-in and sign-up (docs/accounts.md, "Social sign-in").

``login(visit, provider, credentials)``: the platform config's switch and credentials, the rate limit,
the provider's word on the token (providers.verify), then ``sign_in_with``:

1. the provider identity (provider, subject) is linked to a customer of the application → that customer
   (blocked or archived: 403 ``account_unavailable``, as a one-time code sign-in);
2. else the provider verified the email and a live customer of the application has it → the identity is
   linked to that customer (the email marked verified) and they are signed in; an email the provider did
   not verify never links;
3. else registration open (``register``): a new customer with the verified email (and the provider's
   names), the identity linked, signed in; unless the config requires a mobile (never given by a
   provider) or the provider gave no verified email: then ``user_exists: false`` and a ``register_token``
   carrying the pending identity (and the verified email), which registerWithForm finishes (the identity
   is linked to the customer it creates);
4. registration closed → 403 ``registration_closed``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from accounts import limits, secrets
from accounts import services as account_services
from accounts.services import Contact, Outcome, Visit, forbidden
from accounts.social import http as social_http
from accounts.social import providers
from accounts.social.providers import Identity
from core.actors import Actor
from core.api.errors import ServiceError, ValidationFailed
from users import events
from users import services as customer_services
from users.contacts import normalize_email
from users.selectors import customer_by_identity, customer_with_contacts

__all__ = ["login", "sign_in_with", "pending_identity"]


def login(visit: Visit, provider: str, credentials: dict) -> Outcome:
    """loginWithGoogle / …Android / …IOS, loginWithFacebook, loginWithAppleIOS."""
    config = account_services.config_of(visit.application)
    account_services.require_active(config)
    providers.require_enabled(config, provider)
    per_ip = limits.rate_admission("social", ip=visit.ip)
    # Counted before asking the provider (a flood stops there); a token checked locally (a Google or Apple
    # JWT against cached keys) is counted after: with the account's own limit when good, alone when not.
    with social_http.guarded_calls(per_ip.enforce) as guard:
        try:
            identity = providers.verify(provider, credentials, config)
        except ServiceError:
            if not guard.done:
                per_ip.enforce()
            raise
    return sign_in_with(visit, provider, identity, config=config, names=_names_from_client(provider, credentials),
                        along=limits.NOTHING_TO_ADMIT if guard.done else per_ip)


def _names_from_client(provider: str, credentials: dict) -> dict:
    """Apple gives the name to the app only (never in the token), on the first sign-in: the app's
    ``profile.first_name`` / ``last_name`` are taken as the new customer's names (display only; they
    identify nobody). Other providers' names come from the provider."""
    if provider != "apple":
        return {}
    profile = credentials.get("profile") or {}
    return {key: profile[key].strip()[:254] for key in ("first_name", "last_name")
            if isinstance(profile.get(key), str) and profile[key].strip()}


def _actor(customer) -> Actor:
    return Actor("customer", customer.id, customer.username)


def sign_in_with(visit: Visit, provider: str, identity: Identity, *, config: dict | None = None,
                 names: dict | None = None, along: limits.Admission = limits.NOTHING_TO_ADMIT) -> Outcome:
    """Sign in (or up) the customer the provider's ``identity`` belongs to (see the module docstring);
    ``along``: a rate limit still to count, with the account's."""
    application = visit.application
    config = config or account_services.config_of(application)
    owner = customer_by_identity(application.id, provider, identity.subject)
    _per_ip, per_identity, window = settings.RATE_LIMITS["social"]
    # the provider account's rate limit and its customer's lockout, and the session of an owner who may sign
    # in, in one round trip
    session = account_services.new_session(visit, owner, config) if _may_sign_in(owner) else None
    account_services.admit_customer("social:id", f"{application.id}:{provider}:{identity.subject}", per_identity,
                                    window, visit, owner.id if owner is not None else None, config, along=along,
                                    then=session)
    if owner is not None:
        return _sign_in_existing(visit, provider, owner, config, stored=session)

    email = _verified_email(identity)
    if email:
        customer = account_services.find_customer(application, Contact(email=email))
        if customer is not None:
            if not customer.active:
                raise forbidden("This account cannot sign in.", "account_unavailable")
            account_services.refuse_if_customer_locked(visit, customer.id, config)
            with transaction.atomic():
                customer_services.link_identity(application, customer.id, provider=provider,
                                                subject=identity.subject, email=identity.email,
                                                actor=_actor(customer))
                customer_services.mark_verified(application, customer.id, email=email, actor=_actor(customer))
            return _sign_in_existing(visit, provider, customer_with_contacts(application.id, customer.id), config)

    if not config.get("register", True):
        raise forbidden(f"No account is linked to this {providers.NAMES[provider]} account, and sign-up is "
                        "closed for this store.", "registration_closed")
    required = config.get("register_required_fields") or {}
    if not email or (required.get("mobile") or {}).get("is_required"):
        token = secrets.issue_token("register", application.id, pending_identity(identity, email),
                                    account_services.REGISTER_TOKEN_SECONDS)
        return Outcome({"user_exists": False, "register_token": token})
    return _sign_up(visit, provider, identity, email, names or {}, config)


def _verified_email(identity: Identity) -> str:
    """The identity's email, normalised, when the provider verified it; else ""."""
    if not (identity.email and identity.email_verified):
        return ""
    try:
        return normalize_email(identity.email)
    except ValidationFailed:
        return ""


def _may_sign_in(customer) -> bool:
    return customer is not None and not customer.archived and customer.active


def _sign_in_existing(visit: Visit, provider: str, customer, config: dict, *, stored=None) -> Outcome:
    """The customer's lockout was checked by the caller (with the rate limit, or before linking); ``stored``:
    the session the caller stored when it admitted the sign-in."""
    if not _may_sign_in(customer):
        raise forbidden("This account cannot sign in.", "account_unavailable")
    # Like a one-time code sign-in, not like a password: the provider proved who this is, and the sign-in does
    # not wait for the verification of the contacts it did not prove.
    signed = account_services.sign_in(visit, customer, provider, reload=False, config=config, stored=stored)
    return Outcome({"user_exists": True}, signed)


def _sign_up(visit: Visit, provider: str, identity: Identity, email: str, names: dict, config: dict) -> Outcome:
    application = visit.application
    limits.check("register", ip=visit.ip, identifier=email)
    profile = {"first_name": identity.first_name or names.get("first_name") or "",
               "last_name": identity.last_name or names.get("last_name") or ""}
    with transaction.atomic():
        customer = customer_services.register_customer(application, profile=profile, email=email, phone=None,
                                                       actor=visit.actor, email_verified=True)
        customer_services.record_event(customer.id, application.id, events.SIGNED_UP, _actor(customer),
                                       data={"email": email, "phone": "", "method": provider})
        customer_services.link_identity(application, customer.id, provider=provider, subject=identity.subject,
                                        email=identity.email, actor=_actor(customer))
    customer = customer_with_contacts(application.id, customer.id)
    signed = account_services.sign_in(visit, customer, provider, reload=False, config=config)
    return Outcome({"user_exists": False}, signed)


# ----------------------------------------------------------------------------- registerWithForm's part

def pending_identity(identity: Identity, verified_email: str) -> dict:
    """A register token's data: the identity waiting for its customer, and the email the provider verified
    (registerWithForm takes it as verified, like a one-time code's contact, and links the identity to the
    customer it creates: accounts.services.register)."""
    data = {"identity": {"provider": identity.provider, "subject": identity.subject, "email": identity.email}}
    if verified_email:
        data["verified"] = {"email": verified_email}
    return data

