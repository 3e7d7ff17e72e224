"""The storefront account flows, governed by the application's platform config (docs/accounts.md):
sign-up (registerWithForm), sign-in with a password or a one-time code, and the password itself.

Every flow starts from a ``Visit`` (the application, the client's IP, its user agent) and answers in
the shapes of the storefront models (accounts/presenters.py builds them from what these return).
One-time codes and tokens live in Redis (accounts/secrets.py), rate limits and lockout counters too
(accounts/limits.py), password rules in accounts/passwords.py, and messages go out through
core.messages on a Celery worker, never waited for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from accounts import limits, passwords, secrets
from accounts import metrics as account_metrics
from accounts.models import Credential
from core import messages
from core.actors import Actor
from core.api.errors import ServiceError, ValidationFailed
from core.tenancy.models import Application
from sessions_app import services as session_services
from sessions_app import store as session_store
from sessions_app.platform_config import stored_value
from users import events
from users import services as customer_services
from users.contacts import Phone, normalize_email, parse_phone
from users.models import Customer
from users.selectors import (customer_and_extras, customer_by_contact, customer_id_by_contact,
                             customer_with_contacts)

REGISTER_TOKEN_SECONDS = 30 * 60  # a verified contact waiting for registerWithForm
RESET_TOKEN_SECONDS = 30 * 60  # a password-reset link or an expired password's reset


@dataclass(frozen=True)
class Visit:
    """Who is calling: the storefront's application and the client (IP from limits.client_ip)."""

    application: Application
    ip: str
    user_agent: str = ""

    @property
    def actor(self) -> Actor:
        return Actor("customer", "", "storefront visitor")


@dataclass
class SignedIn:
    """A customer signed in: the session's signed cookie value and its lifetime, for the view to set."""

    customer: Customer
    cookie: str
    max_age: int


@dataclass
class Outcome:
    """What a flow answers: fields of the storefront model, and a sign-in when it made one."""

    fields: dict = field(default_factory=dict)
    signed_in: SignedIn | None = None


def forbidden(message: str, code: str) -> ServiceError:
    return ServiceError(message, code=code, status_code=403)


def unauthorized(message: str, code: str) -> ServiceError:
    return ServiceError(message, code=code, status_code=401)


INVALID_CREDENTIALS = "Incorrect email, mobile number or password."


def refuse_if_customer_locked(visit: Visit, customer_id: str, config: dict) -> None:
    """403 ``account_locked`` while the customer is locked out from everywhere (either kind): a sign-in
    without a password or code (social) is refused like the others."""
    until = limits.lockout.customer_locked_until(visit.application.id, customer_id,
                                                 config.get("account_lockout") or {})
    if until is not None:
        raise limits.AccountLocked(until)


def admit_customer(scope: str, key: str, limit: int, window: int, visit: Visit, customer_id: str | None,
                   config: dict, *, along: limits.Admission = limits.NOTHING_TO_ADMIT,
                   then: session_store.Session | None = None) -> None:
    """A rate limit of ``key``, then refuse_if_customer_locked (when a customer is named), and ``along``
    counted with them; admitted, the session ``then`` (new_session's) is stored: one round trip."""
    (limits.customer_admission(scope, key, limit, window, application_id=visit.application.id,
                               customer_id=customer_id, policy=config.get("account_lockout") or {})
     + along).enforce(then=then)


def admission(action: str, kind: str, visit: Visit, customer_id: str | None, identifier: str,
              policy: dict) -> limits.Admission:
    """The rate limit of ``action`` and the ``kind`` lockout (403 ``account_locked``) that admit an attempt
    before any hashing or code check: ``.enforce()`` it, or pass it to the script that checks the secret."""
    return limits.admission(action, ip=visit.ip, identifier=identifier, kind=kind,
                            application_id=visit.application.id, customer_id=customer_id, policy=policy)


# ----------------------------------------------------------------------------- config

def config_of(application) -> dict:
    """The application's platform config (defaults filled in), read once per flow."""
    return stored_value(application)


def require_active(config: dict) -> None:
    if not config.get("active", True):
        raise forbidden("Sign-in and sign-up are turned off for this store.", "authentication_disabled")


def _customer_actor(customer: Customer) -> Actor:
    return Actor("customer", customer.id, customer.username)


# ----------------------------------------------------------------------------- identifiers

@dataclass(frozen=True)
class Contact:
    """An email (normalised) or a phone (parsed): how a customer is found and where codes go."""

    email: str | None = None
    phone: Phone | None = None

    @property
    def channel(self) -> str:
        return "email" if self.email else "sms"

    @property
    def address(self) -> str:
        return self.email or self.phone.e164

    @property
    def kind(self) -> str:
        return "email" if self.email else "mobile"

    def as_data(self) -> dict:
        return {"email": self.email} if self.email else {"phone": self.phone.e164}


def email_contact(raw, field_name: str = "email") -> Contact:
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationFailed(f"{field_name} is required.")
    return Contact(email=normalize_email(raw, field=field_name))


def phone_contact(mobile, country_code=None, field_name: str = "mobile") -> Contact:
    if not isinstance(mobile, str) or not mobile.strip():
        raise ValidationFailed(f"{field_name} is required.")
    return Contact(phone=parse_phone(mobile, country_code or None, field=field_name))


def contact_of(username, field_name: str = "username") -> Contact:
    """A sign-in name: an email when it has an @, else a mobile number (with or without +country code)."""
    if not isinstance(username, str) or not username.strip():
        raise ValidationFailed(f"{field_name} is required: an email or a mobile number.")
    text = username.strip()
    return email_contact(text, field_name) if "@" in text else phone_contact(text, None, field_name)


def contact_from_data(data: dict) -> Contact:
    if data.get("email"):
        return Contact(email=data["email"])
    return Contact(phone=parse_phone(data["phone"]))


def find_customer_id(application, contact: Contact) -> str | None:
    return customer_id_by_contact(application, email=contact.email, phone=contact.phone)


def find_customer(application, contact: Contact) -> Customer | None:
    """The live customer with this contact, loaded with its contacts (one query), or None."""
    return customer_by_contact(application, email=contact.email, phone=contact.phone)


# ----------------------------------------------------------------------------- sessions

def new_session(visit: Visit, customer: Customer, config: dict | None) -> session_store.Session:
    """The session a sign-in of ``customer`` makes (createUserSession's rules, the platform config's
    session_config), not stored yet: the script that admits the sign-in stores it (sign_in's ``stored``)."""
    return session_services.new_session(visit.application, customer.id, ip=visit.ip, user_agent=visit.user_agent,
                                        customer=customer,
                                        session_config=config.get("session_config") if config else None)


def sign_in(visit: Visit, customer: Customer, method: str, *, reload: bool = True,
            config: dict | None = None, stored: session_store.Session | None = None) -> SignedIn:
    """A session as createUserSession makes it (the platform config's session_config), and one audit event
    naming it. ``reload`` False: ``customer`` (with its contacts) is already as the answer must show it.
    ``stored``: new_session's session, already stored by the script that admitted the sign-in."""
    actor = _customer_actor(customer)
    if stored is None:
        session, cookie = session_services.create_session(
            visit.application, customer.id, ip=visit.ip, user_agent=visit.user_agent, actor=actor, audit=False,
            customer=customer, session_config=config.get("session_config") if config else None)
    else:
        session, cookie = stored, session_store.sign(stored.session_id)
    customer_services.record_event(customer.id, visit.application.id, events.SIGNED_IN, actor,
                                   data={"method": method, "ip": visit.ip, "session_id": session.session_id,
                                         "max_age": session.max_age})
    shown = customer_with_contacts(visit.application.id, customer.id) if reload else customer
    account_metrics.SIGN_INS.labels(method, "succeeded").inc()
    return SignedIn(shown, cookie, session.max_age)


def _unverified_hard_contacts(customer: Customer, required: dict) -> list[str]:
    """Which of the customer's primary email / phone the config needs verified and are not: a field the
    config requires (``is_required``) at ``level`` hard. An optional contact is verified when it is first
    used for a code; ``soft`` lets the customer in unverified."""
    def strict(name):
        rule = required.get(name) or {}
        return rule.get("is_required") and rule.get("level", "hard") == "hard"

    missing = []
    email = next((e for e in customer.emails.all() if e.primary), None)
    phone = next((p for p in customer.phones.all() if p.primary), None)
    if email is not None and not email.verified and strict("email"):
        missing.append("email")
    if phone is not None and not phone.verified and strict("mobile"):
        missing.append("mobile")
    return missing


# ----------------------------------------------------------------------------- one-time codes

def send_code(visit: Visit, contact: Contact, purpose: str, *, name: str = "") -> secrets.IssuedCode:
    """A new one-time code for ``contact`` (resend timer, hourly cap), sent by email or SMS on a worker."""
    issued = issue_code(visit, contact, purpose)
    messages.send("otp", channel=contact.channel, to=contact.address, application=visit.application,
                  context={"code": issued.code, "minutes": max(1, issued.expires_in // 60), "purpose": purpose,
                           "first_name": name})
    return issued


def issue_code(visit: Visit, contact: Contact, purpose: str) -> secrets.IssuedCode:
    """A new one-time code for ``contact``, not sent: the "otp_send" rate limit, the resend timer and the
    hourly cap checked, and the code stored, in one round trip."""
    return secrets.issue_code(visit.application.id, purpose, contact.address,
                              admission=limits.rate_admission("otp_send", ip=visit.ip, identifier=contact.address))


def code_fields(contact: Contact, issued: secrets.IssuedCode) -> dict:
    fields = {"success": True, "request_id": issued.request_id, "message": "OTP sent",
              "resend_timer": issued.resend_timer, "resend_token": issued.request_id}
    if contact.phone is not None:
        fields.update(mobile=contact.phone.national, country_code=str(contact.phone.country_code))
    else:
        fields["email"] = contact.email
    return fields


def send_sign_in_code(visit: Visit, contact: Contact) -> Outcome:
    """sendOTPOnMobile / sendOTPOnEmail / loginWithOTP: a code to sign in (or to register, when the
    contact is unknown and registration is open; verifyMobileOTP / verifyEmailOTP tell which)."""
    config = config_of(visit.application)
    require_active(config)
    if not config["login"].get("otp", True):
        raise forbidden("Signing in with a one-time code is turned off for this store.", "otp_login_disabled")
    issued = send_code(visit, contact, "login")
    return Outcome(code_fields(contact, issued))


def _contact_of_target(target: str) -> Contact:
    return Contact(email=target) if "@" in target else Contact(phone=parse_phone(target))


def check_code(visit: Visit, contact: Contact | None, purpose: str, request_id: str | None, code, *,
               customer_id: str | None = None, config: dict | None = None) -> Contact:
    """The contact a code of ``purpose`` was sent to, checked under the rate limit and the OTP lockout (of
    ``customer_id`` when the caller knows the customer, else of the contact's); a wrong code counts as an
    OTP failure, a right one resets the count. With only a request id, failures count by where its code
    went (so a new code does not start a new count). The one code check of every flow."""
    return _check_code(visit, contact, purpose, request_id, code, customer_id=customer_id, config=config)[0]


def _check_code(visit: Visit, contact: Contact | None, purpose: str, request_id: str | None, code, *,
                customer_id: str | None, config: dict | None,
                sign_in_found: bool = False) -> tuple[Contact, Customer | None, session_store.Session | None]:
    """check_code, and (when the caller named no customer) the live customer the contact belongs to, loaded
    with its contacts (None: nobody's); with ``sign_in_found``, the session of that customer (when active)
    stored by the script that used the code (None when no one was signed in)."""
    policy = (config or config_of(visit.application)).get("account_lockout") or {}
    application_id = visit.application.id
    counted = contact
    if counted is None:
        sent_to = secrets.code_target(application_id, purpose, request_id)
        counted = _contact_of_target(sent_to) if sent_to else None
    identifier = counted.address if counted else (request_id or "")
    customer = None
    if customer_id is None and counted is not None:
        customer = find_customer(visit.application, counted)
        customer_id = customer.id if customer else None
    admitting = admission("otp_verify", "otp", visit, customer_id, identifier, policy)
    if not isinstance(code, str) or not code.strip():
        admitting.enforce()
        raise ValidationFailed("otp is required.")
    session = new_session(visit, customer, config) if sign_in_found and customer is not None and customer.active \
        else None
    try:  # admitted, a right code resets the lockout counts (and stores the session), in the same round trip
        target = secrets.check_code(application_id, purpose, request_id or None, code.strip(),
                                    target=contact.address if contact else None, admission=admitting, then=session,
                                    clear=limits.lockout.count_keys("otp", application_id, customer_id, identifier,
                                                                    visit.ip))
    except secrets.CodeInvalid:
        if limits.lockout.failed("otp", application_id, customer_id, identifier, visit.ip, policy) and customer_id:
            customer_services.record_event(customer_id, application_id, events.LOCKED_OUT, visit.actor,
                                           data={"kind": "otp", "ip": visit.ip})
        raise
    found = contact or _contact_of_target(target)
    # ``counted`` is known here: without a contact, a right code is one code_target found (random request ids)
    return found, customer, session


def verify_sign_in_code(visit: Visit, *, code, request_id: str | None = None, contact: Contact | None = None,
                        register_token: str | None = None) -> Outcome:
    """verifyMobileOTP (request_id) / verifyEmailOTP (email): the code proves the contact. A known,
    active customer is signed in; an unknown contact gets a ``register_token`` (registration open) for
    registerWithForm; a registration waiting for this verification (its ``register_token``) goes on."""
    config = config_of(visit.application)
    require_active(config)
    proven, customer, session = _check_code(visit, contact, "login", request_id, code, customer_id=None,
                                            config=config, sign_in_found=not register_token)
    if register_token:
        return _continue_registration(visit, config, register_token, proven)
    if customer is None:
        if not config.get("register", True):
            raise forbidden("No account uses this contact, and sign-up is closed for this store.",
                            "registration_closed")
        token = secrets.issue_token("register", visit.application.id, {"verified": proven.as_data()},
                                    REGISTER_TOKEN_SECONDS)
        return Outcome({"user_exists": False, "register_token": token})
    if not customer.active:
        raise forbidden("This account cannot sign in.", "account_unavailable")
    already = _verified(customer, proven)
    if not already:
        customer_services.mark_verified(visit.application, customer.id, email=proven.email, phone=proven.phone,
                                        actor=_customer_actor(customer))
    signed = sign_in(visit, customer, "otp", reload=not already, config=config, stored=session)
    return Outcome({"user_exists": True}, signed)


def _verified(customer: Customer, contact: Contact) -> bool:
    """Whether the customer (loaded with its contacts) already has this contact verified."""
    if contact.email:
        return any(e.email == contact.email and e.verified for e in customer.emails.all())
    return any(p.e164 == contact.phone.e164 and p.verified for p in customer.phones.all())


# ----------------------------------------------------------------------------- sign-up

def register(visit: Visit, data: dict) -> Outcome:
    """registerWithForm: the customer is created at once (createUser's uniqueness rules); each contact
    the config wants verified (level hard) gets a code first and the sign-in waits for it; otherwise
    the new customer is signed in now. A ``register_token`` from a verified OTP counts as verified."""
    application = visit.application
    config = config_of(application)
    require_active(config)
    if not config.get("register", True):
        raise forbidden("Sign-up is closed for this store.", "registration_closed")
    required = config.get("register_required_fields") or {}
    verified, pending_identity = {}, None
    if data.get("register_token"):
        token_data = secrets.take_token("register", application.id, data["register_token"])
        verified = token_data.get("verified") or {}
        pending_identity = token_data.get("identity")  # a social sign-in waiting for this customer
    email = normalize_email(data["email"]) if data.get("email") else verified.get("email")
    phone_data = data.get("phone") or {}
    phone = None
    if phone_data.get("mobile"):
        phone = parse_phone(phone_data["mobile"], phone_data.get("country_code") or None, field="phone.mobile")
    elif verified.get("phone"):
        phone = parse_phone(verified["phone"])
    for name, value in (("email", email), ("mobile", phone)):
        if (required.get(name) or {}).get("is_required") and not value:
            raise ValidationFailed(f"{'email' if name == 'email' else 'phone.mobile'} is required to sign up "
                                   "at this store.")
    password = data.get("password") or ""
    if (required.get("password") or {}).get("is_required", True) and not password:
        raise ValidationFailed("password is required to sign up at this store.")
    if password:
        passwords.validate(password, config.get("password_settings") or {})
    limits.check("register", ip=visit.ip, identifier=(email or phone.e164) if (email or phone) else None)
    with transaction.atomic():
        customer = customer_services.register_customer(
            application, profile={k: data.get(k) for k in ("first_name", "last_name", "gender")},
            email=email, phone=phone, actor=visit.actor,
            email_verified=bool(email) and verified.get("email") == email,
            phone_verified=phone is not None and verified.get("phone") == phone.e164)
        if password:
            Credential.objects.create(customer=customer, password=passwords.hash_password(password),
                                      password_changed_at=timezone.now())
        customer_services.record_event(customer.id, application.id, events.SIGNED_UP, _customer_actor(customer),
                                       data={"email": email or "", "phone": phone.e164 if phone else ""})
        if isinstance(pending_identity, dict):
            customer_services.link_identity(application, customer.id, provider=pending_identity.get("provider"),
                                            subject=pending_identity.get("subject"),
                                            email=pending_identity.get("email") or "",
                                            actor=_customer_actor(customer))
    customer = customer_with_contacts(application.id, customer.id)
    return _verify_or_sign_in(visit, customer, required, "register")


def _verify_or_sign_in(visit: Visit, customer: Customer, required: dict, method: str) -> Outcome:
    missing = _unverified_hard_contacts(customer, required)
    fields = {"success": True, "user_exists": False, "verify_mobile_otp": "mobile" in missing,
              "verify_email_otp": "email" in missing}
    if not missing:
        fields["message"] = "Signed up"
        return Outcome(fields, sign_in(visit, customer, method))
    fields["register_token"] = secrets.issue_token("register", visit.application.id, {"customer_id": customer.id},
                                                   REGISTER_TOKEN_SECONDS)
    name = customer.first_name
    if "mobile" in missing:
        phone = next(p for p in customer.phones.all() if p.primary)
        contact = Contact(phone=parse_phone(phone.e164))
        fields.update(code_fields(contact, send_code(visit, contact, "login", name=name)))
    if "email" in missing:
        email = next(e for e in customer.emails.all() if e.primary)
        contact = Contact(email=email.email)
        issued = send_code(visit, contact, "login", name=name)
        fields.update(email=email.email, resend_email_token=issued.request_id)
        fields.setdefault("request_id", issued.request_id)
        fields.setdefault("resend_timer", issued.resend_timer)
    return Outcome(fields)


def _continue_registration(visit: Visit, config: dict, register_token: str, proven: Contact) -> Outcome:
    data = secrets.take_token("register", visit.application.id, register_token)
    customer_id = data.get("customer_id")
    if not customer_id:
        raise ValidationFailed("This register_token finishes with registerWithForm, not here.",
                               code="register_token_invalid")
    customer = customer_with_contacts(visit.application.id, customer_id)
    if customer is None or customer.archived or not customer.active:
        raise forbidden("This account cannot sign in.", "account_unavailable")
    if not customer_services.mark_verified(visit.application, customer.id, email=proven.email, phone=proven.phone,
                                           actor=_customer_actor(customer)):
        raise ValidationFailed("The code was sent to a contact of another account.", code="otp_invalid")
    customer = customer_with_contacts(visit.application.id, customer.id)
    missing = _unverified_hard_contacts(customer, config.get("register_required_fields") or {})
    if missing:
        token = secrets.issue_token("register", visit.application.id, {"customer_id": customer.id},
                                    REGISTER_TOKEN_SECONDS)
        return Outcome({"user_exists": True, "register_token": token})
    return Outcome({"user_exists": True}, sign_in(visit, customer, "register"))


# ----------------------------------------------------------------------------- passwords

_CREDENTIAL_COLUMNS = [f"(SELECT {column} FROM {Credential._meta.db_table} WHERE customer_id = c.id)"
                       for column in ("password", "password_changed_at")]


def _customer_and_credential(application, customer_id: str) -> tuple[Customer | None, Credential | None]:
    """The customer (with its contacts) and their password, in one query."""
    customer, (password, changed_at) = customer_and_extras(application.id, customer_id, _CREDENTIAL_COLUMNS)
    if customer is None or password is None:
        return customer, None
    credential = Credential(customer_id=customer.id, password=password, password_changed_at=changed_at)
    credential._state.adding = False
    return customer, credential


def login_with_password(visit: Visit, username, password) -> Outcome:
    """loginWithEmailAndPassword. Refused before any hashing while locked out; an unknown name costs a
    hash like a known one; blocked customers get the same answer as a wrong password."""
    application = visit.application
    config = config_of(application)
    require_active(config)
    if not config["login"].get("password", True):
        raise forbidden("Signing in with a password is turned off for this store.", "password_login_disabled")
    contact = contact_of(username)
    if not isinstance(password, str) or not password:
        raise ValidationFailed("password is required.")
    policy = config.get("account_lockout") or {}
    customer_id = find_customer_id(application, contact)  # only the id until the lockout lets it in
    admission("login", "password", visit, customer_id, contact.address, policy).enforce()
    customer, credential = _customer_and_credential(application, customer_id) if customer_id else (None, None)
    matches = passwords.check(credential, password)
    if not matches or customer is None or not customer.active:
        just_locked = limits.lockout.failed("password", application.id, customer_id, contact.address, visit.ip,
                                            policy)
        if customer is not None:
            customer_services.record_event(customer.id, application.id, events.SIGN_IN_FAILED, visit.actor,
                                           data={"method": "password", "ip": visit.ip})
            if just_locked:
                customer_services.record_event(customer.id, application.id, events.LOCKED_OUT, visit.actor,
                                               data={"kind": "password", "ip": visit.ip})
        raise unauthorized(INVALID_CREDENTIALS, "invalid_credentials")
    counted = ("password", application.id, customer.id, contact.address, visit.ip)
    settings_ = config.get("password_settings") or {}
    if passwords.expired(credential, settings_.get("expiry") or {}):
        limits.lockout.succeeded(*counted)
        token = secrets.issue_token("reset", application.id, {"customer_id": customer.id}, RESET_TOKEN_SECONDS)
        raise ServiceError("The password has expired: choose a new one with resetForgotPassword (code = meta.code).",
                           code="password_expired", status_code=403, meta={"code": token})
    missing = _unverified_hard_contacts(customer, config.get("required_fields") or {})
    if missing:
        limits.lockout.succeeded(*counted)
        raise forbidden(f"Verify your {' and '.join(missing)} first: sign in with a one-time code.",
                        "contact_not_verified")
    session = new_session(visit, customer, config)
    limits.lockout.succeeded(*counted, then=session)  # the counts reset and the session stored: one round trip
    return Outcome({}, sign_in(visit, customer, "password", reload=False, config=config, stored=session))


def has_password(customer: Customer) -> bool:
    return Credential.objects.filter(customer_id=customer.id).exists()


def user_exists(visit: Visit, q) -> bool:
    """userExists: whether an email or mobile number belongs to a live customer (rate-limited per IP)."""
    contact = contact_of(q, "q")
    limits.check("exists", ip=visit.ip, identifier=contact.address)
    return find_customer_id(visit.application, contact) is not None


def set_password(application, customer: Customer, new_password: str, config: dict, actor: Actor, *,
                 event: str) -> None:
    """Store a new password after the policy and history checks (one place for update and reset)."""
    settings_ = config.get("password_settings") or {}
    passwords.validate(new_password, settings_)
    credential = Credential.objects.select_for_update().filter(customer_id=customer.id).first()
    history = settings_.get("history") or {}
    if credential is not None and history.get("required") and \
            passwords.reused(new_password, credential, int(history.get("count") or 0)):
        raise ValidationFailed(f"Choose a password you have not used for your last {history.get('count')} "
                               "passwords.", code="password_reused")
    hashed = passwords.hash_password(new_password)
    if credential is None:
        Credential.objects.create(customer=customer, password=hashed, password_changed_at=timezone.now())
    else:
        credential.previous_passwords = passwords.previous_after_change(credential)
        credential.password, credential.password_changed_at = hashed, timezone.now()
        credential.save(update_fields=["password", "previous_passwords", "password_changed_at"])
    passwords.clear_old_hash_flag(customer.id)  # an imported hash, if any, is replaced (docs/migration.md)
    customer_services.record_event(customer.id, application.id, event, actor)
    email = next((e.email for e in customer.emails.all() if e.primary), None)
    if email:
        messages.send("password_changed", channel="email", to=email, application=application,
                      context={"first_name": customer.first_name})


@transaction.atomic
def update_password(visit: Visit, customer: Customer, old_password, new_password) -> None:
    """updatePassword (signed in): the old password first (a customer without one may set one)."""
    config = config_of(visit.application)
    if not isinstance(new_password, str) or not new_password:
        raise ValidationFailed("new_password is required.")
    credential = Credential.objects.filter(customer_id=customer.id).first()
    if credential is not None and not passwords.check(credential, old_password or ""):
        raise unauthorized("old_password is not the current password.", "invalid_credentials")
    set_password(visit.application, customer, new_password, config, _customer_actor(customer),
                 event=events.PASSWORD_CHANGED)


# ----------------------------------------------------------------------------- staff

def sign_in_state(application_id: str, customer_id: str) -> dict:
    """The customer's lockout state (accounts/limits.py) and whether they have a password: for the admin."""
    return {**limits.lockout.state(application_id, customer_id),
            "has_password": Credential.objects.filter(customer_id=customer_id).exists()}


def unlock(application, customer_id: str, actor: Actor) -> bool:
    """Lift every sign-in lockout of the customer (per customer and per identifier + IP, both kinds); audited
    when one was lifted. The admin's "Unlock" action and ``manage.py unlock_customer`` call this."""
    customer = customer_with_contacts(application.id, customer_id)
    if customer is None:
        raise ServiceError(f"No customer {customer_id} in this application.", code="user_not_found", status_code=404)
    lifted = limits.lockout.unlock(application.id, customer.id)
    if lifted:
        customer_services.record_event(customer.id, application.id, events.UNLOCKED, actor)
    return lifted
