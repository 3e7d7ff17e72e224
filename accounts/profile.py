"""The signed-in customer's own emails and mobile numbers (docs/accounts.md, "Contacts and verification").

v1.0: addEmail / addMobileNumber (an unverified contact gets a verification link), deleteEmail /
deleteMobileNumber, setEmailAsPrimary / setMobileNumberAsPrimary (only a verified contact becomes
primary), sendVerificationLinkTo*, and verifyEmail / verifyMobile (the link's single-use token, opened
anywhere: application credentials only).

v2.0: a contact changes only after the current primary is re-verified. sendOTPOnPrimary +
verifyOTPonPrimary leave a proof in Redis, bound to the session, for PRIMARY_PROOF_SECONDS;
sendOTPForUpdate needs it, and verifyOTPForUpdate (which also needs it) makes the new contact the
verified primary and spends the proof.

The writes themselves (one primary each, uniqueness among live customers, audit) are users.services'.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

from django.conf import settings

from accounts import keyspace, limits, secrets
from accounts.services import (Contact, Visit, check_code, code_fields, config_of, contact_from_data, email_contact,
                               find_customer_id, phone_contact, send_code)
from core import messages
from core.actors import Actor
from core.api.errors import Conflict, NotFound, ServiceError, ValidationFailed
from users import services as customer_services
from users.contacts import parse_phone
from users.models import Customer
from users.selectors import customer_with_contacts

PRIMARY_PROOF_SECONDS = 10 * 60  # from verifyOTPonPrimary to verifyOTPForUpdate
ENTITIES = ("email", "mobile")
LINK_KINDS = {"email": "verify_email", "mobile": "verify_mobile"}


@dataclass
class Changed:
    """The customer as they are now, and the other fields of the answer."""

    customer: Customer
    fields: dict = field(default_factory=dict)


def _actor(customer: Customer) -> Actor:
    return Actor("customer", customer.id, customer.username)


def _fresh(visit: Visit, customer: Customer, **fields) -> Changed:
    return Changed(customer_with_contacts(visit.application.id, customer.id), fields)


def _writes(contact: Contact) -> dict:
    """The keyword of users.services' contact functions for ``contact``."""
    return {"email": contact.email} if contact.email else {"phone": contact.phone}


def _rows(customer: Customer, kind: str) -> list:
    return list(customer.emails.all() if kind == "email" else customer.phones.all())


def _row_of(customer: Customer, contact: Contact):
    """The customer's own row of ``contact``, or None."""
    if contact.email:
        return next((e for e in customer.emails.all() if e.email == contact.email), None)
    return next((p for p in customer.phones.all() if p.e164 == contact.phone.e164), None)


def _own_row(customer: Customer, contact: Contact):
    row = _row_of(customer, contact)
    if row is None:
        raise NotFound(f"{contact.address} is not one of your {'emails' if contact.email else 'mobile numbers'}.",
                       code="contact_not_found")
    return row


def entity_of(raw) -> str:
    if raw not in ENTITIES:
        raise ValidationFailed("entity must be email or mobile.", code="invalid_entity")
    return raw


def contact_in(entity: str, data: dict, *, mobile_field: str = "mobile") -> Contact:
    """The email or mobile number a request body names for ``entity``."""
    if entity == "email":
        return email_contact(data.get("email"))
    return phone_contact(data.get(mobile_field), data.get("country_code"), mobile_field)


# ----------------------------------------------------------------------------- verification links

def _send_link(visit: Visit, customer: Customer, contact: Contact) -> None:
    limits.check("otp_send", ip=visit.ip, identifier=contact.address)
    ttl = settings.VERIFY_LINK_TTL_SECONDS
    token = secrets.issue_token(LINK_KINDS[contact.kind], visit.application.id,
                                {"customer_id": customer.id, **contact.as_data()}, ttl)
    link = settings.VERIFY_LINK_URL.format(entity=contact.kind, code=quote(token, safe=""))
    messages.send("verify_link", channel=contact.channel, to=contact.address, application=visit.application,
                  context={"link": link, "minutes": max(1, ttl // 60), "first_name": customer.first_name})


def send_verification_link(visit: Visit, customer: Customer, contact: Contact) -> bool:
    """sendVerificationLinkTo*: a link to one of the customer's unverified contacts; False when verified."""
    if _own_row(customer, contact).verified:
        return False
    _send_link(visit, customer, contact)
    return True


def verify_link(visit: Visit, entity: str, code) -> None:
    """verifyEmail / verifyMobile: the link's token marks its contact verified (single use). A token whose
    customer is blocked, archived or no longer has the contact is as invalid as a used one."""
    limits.check("otp_verify", ip=visit.ip)
    if not isinstance(code, str) or not code.strip():
        raise ValidationFailed("code is required.")
    data = secrets.take_token(LINK_KINDS[entity], visit.application.id, code.strip())
    contact = contact_from_data(data)
    customer = customer_with_contacts(visit.application.id, data.get("customer_id") or "")
    if customer is None or customer.archived or not customer.active or \
            not customer_services.mark_verified(visit.application, customer.id, actor=_actor(customer),
                                                **_writes(contact)):
        raise secrets.TokenInvalid()


# ----------------------------------------------------------------------------- v1.0: add, delete, primary

def add_contact(visit: Visit, customer: Customer, contact: Contact) -> Changed:
    """addEmail / addMobileNumber: a new, unverified, non-primary contact (the first of its kind is primary)
    and a verification link to it; 409 when another live customer has it. Adding one the customer already
    has sends a link again while it is unverified."""
    customer_services.add_contact(visit.application, customer.id, actor=_actor(customer), **_writes(contact))
    changed = _fresh(visit, customer)
    sent = not _row_of(changed.customer, contact).verified
    if sent:
        _send_link(visit, changed.customer, contact)
    changed.fields[f"verify_{contact.kind}_link"] = sent
    return changed


def delete_contact(visit: Visit, customer: Customer, contact: Contact) -> Changed:
    """deleteEmail / deleteMobileNumber. Not the primary while others remain (make another primary first);
    not the last one when the platform config's required_fields requires that kind."""
    row = _own_row(customer, contact)
    rows = _rows(customer, contact.kind)
    if row.primary and len(rows) > 1:
        raise ValidationFailed(f"This is your primary {contact.kind}: make another one primary first.",
                               code="primary_contact")
    required = (config_of(visit.application).get("required_fields") or {}).get(contact.kind) or {}
    if len(rows) == 1 and required.get("is_required"):
        raise ValidationFailed(f"This store requires an {contact.kind}: add another one before deleting this one.",
                               code="contact_required")
    customer_services.remove_contact(visit.application, customer.id, actor=_actor(customer), **_writes(contact))
    return _fresh(visit, customer)


def set_primary(visit: Visit, customer: Customer, contact: Contact) -> Changed:
    """setEmailAsPrimary / setMobileNumberAsPrimary: one of the customer's verified contacts."""
    if not _own_row(customer, contact).verified:
        raise ValidationFailed(f"Verify {contact.address} before making it primary.", code="contact_not_verified")
    customer_services.set_primary_contact(visit.application, customer.id, actor=_actor(customer),
                                          **_writes(contact))
    return _fresh(visit, customer)


# ----------------------------------------------------------------------------- v2.0: re-verify, then change

def _proof_key(application_id: str, session_id: str) -> str:
    return keyspace.key("proof", keyspace.digest(application_id, session_id))


def _require_proof(visit: Visit, session_id: str) -> None:
    if not keyspace.connection().exists(_proof_key(visit.application.id, session_id)):
        raise ServiceError("Verify your primary email or mobile number first (sendOTPOnPrimary, verifyOTPonPrimary).",
                           code="primary_not_verified", status_code=403)


def _primary(customer: Customer, entity: str) -> Contact:
    row = next((r for r in _rows(customer, entity) if r.primary), None)
    if row is None:
        other = "mobile number" if entity == "email" else "email"
        raise ValidationFailed(f"You have no primary {'email' if entity == 'email' else 'mobile number'}: "
                               f"verify your primary {other} instead.", code="no_primary_contact")
    return Contact(email=row.email) if entity == "email" else Contact(phone=parse_phone(row.e164))


def _prove(visit: Visit, customer: Customer, contact: Contact | None, purpose: str, request_id, code) -> Contact:
    """The contact a code of ``purpose`` was sent to, checked under the OTP lockout of the signed-in customer."""
    return check_code(visit, contact, purpose, request_id, code, customer_id=customer.id)


def _send_otp_fields(contact: Contact, issued: secrets.IssuedCode) -> dict:
    """SendOtpSuccess: code_fields without the email, which that model does not have."""
    fields = code_fields(contact, issued)
    fields.pop("email", None)
    return fields


def send_primary_code(visit: Visit, customer: Customer, entity: str, named: Contact | None) -> dict:
    """sendOTPOnPrimary: a code (purpose verify) to the customer's primary email / mobile; a contact named
    in the body must be that primary."""
    primary = _primary(customer, entity)
    if named is not None and named != primary:
        raise ValidationFailed(f"{named.address} is not your primary {entity}.", code="not_primary")
    return _send_otp_fields(primary, send_code(visit, primary, "verify", name=customer.first_name))


def verify_primary_code(visit: Visit, customer: Customer, session_id: str, entity: str, *, request_id, code) -> Changed:
    """verifyOTPonPrimary: the code proves the primary; the proof lasts PRIMARY_PROOF_SECONDS, this session only."""
    primary = _primary(customer, entity)
    _prove(visit, customer, primary, "verify", request_id, code)
    customer_services.mark_verified(visit.application, customer.id, actor=_actor(customer), **_writes(primary))
    keyspace.connection().set(_proof_key(visit.application.id, session_id), "1", ex=PRIMARY_PROOF_SECONDS)
    return _fresh(visit, customer, user_exists=True)


def send_update_code(visit: Visit, customer: Customer, session_id: str, contact: Contact) -> dict:
    """sendOTPForUpdate: with the primary's proof, a code (purpose update) to the new email / mobile."""
    _require_proof(visit, session_id)
    row = _row_of(customer, contact)
    if row is not None and row.primary and row.verified:
        raise ValidationFailed(f"{contact.address} is already your primary {contact.kind}.", code="already_primary")
    if find_customer_id(visit.application, contact) not in (None, customer.id):
        raise Conflict(f"Already used by another customer of this application: {contact.address}.",
                       code="duplicate_contact")
    return _send_otp_fields(contact, send_code(visit, contact, "update", name=customer.first_name))


def verify_update_code(visit: Visit, customer: Customer, session_id: str, entity: str, *, contact: Contact | None,
                       request_id, code) -> Changed:
    """verifyOTPForUpdate: with the primary's proof, the code makes its contact the verified primary (the
    previous primary stays, not primary); the proof is spent."""
    _require_proof(visit, session_id)
    proven = _prove(visit, customer, contact, "update", request_id, code)
    if proven.kind != entity:
        raise ValidationFailed(f"That code was sent to a contact that is not an {entity}.", code="otp_invalid")
    customer_services.add_contact(visit.application, customer.id, actor=_actor(customer), verified=True,
                                  primary=True, **_writes(proven))
    keyspace.connection().delete(_proof_key(visit.application.id, session_id))
    return _fresh(visit, customer, user_exists=True)
