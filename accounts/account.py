"""The signed-in customer's own account on the storefront (docs/accounts.md, "Profile details, attributes
and deletion"): the storefront's view of the platform config, profile details (updateProfile), the
customer-editable attributes, and deleting the account (deleteUser, confirmed by a one-time code).

Like accounts.services, every flow takes a ``Visit`` and answers an ``Outcome`` (or the dict of its
storefront model); writes go through users.services / attributes.services, which record the audit events.
"""

from __future__ import annotations

import datetime
from urllib.parse import urlsplit

from django.db import transaction

from accounts.services import (
    Contact, Outcome, Visit, check_code, code_fields, config_of, email_contact, forbidden, phone_contact, send_code,
)
from attributes import selectors as attribute_selectors
from attributes import services as attribute_services
from core import messages
from core.actors import Actor
from core.api.errors import ValidationFailed
from sessions_app import platform_config
from users import events
from users import services as customer_services
from users.contacts import Phone
from users.models import Customer
from users.selectors import customer_with_contacts

PROFILE_URL_MAX = 1000


def customer_actor(customer: Customer) -> Actor:
    return Actor("customer", customer.id, customer.username)


def storefront_config(application) -> dict:
    """getPlatformConfig (storefront): what a sign-in page may know, never a secret."""
    return platform_config.present_for_storefront(platform_config.get_platform_config(application))


# ----------------------------------------------------------------------------- updateProfile

def _date_of_birth(raw: str) -> datetime.date:
    try:
        dob = datetime.date.fromisoformat(raw.strip()[:10])
    except ValueError:
        raise ValidationFailed(f"dob: {raw[:40]!r} is not a date (YYYY-MM-DD).") from None
    if dob > datetime.date.today() or dob.year < 1900:
        raise ValidationFailed("dob: must be a date between 1900-01-01 and today.")
    return dob


def _picture_url(raw: str) -> str:
    url = raw.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > PROFILE_URL_MAX:
        raise ValidationFailed(f"profile_pic_url: must be an http(s) URL of at most {PROFILE_URL_MAX} characters.")
    return url


def _profile_changes(data: dict) -> dict:
    """The profile fields sent: a blank one is left as it is (SDK clients send every field)."""
    changes = {name: data[name].strip() for name in ("first_name", "last_name", "gender")
               if (data.get(name) or "").strip()}
    if (data.get("dob") or "").strip():
        changes["dob"] = _date_of_birth(data["dob"])
    if (data.get("profile_pic_url") or "").strip():
        changes["profile_pic_url"] = _picture_url(data["profile_pic_url"])
    return changes


def _contacts_sent(data: dict) -> list[Contact]:
    contacts = []
    if (data.get("email") or "").strip():
        contacts.append(email_contact(data["email"]))
    mobile = data.get("mobile") or {}
    if (mobile.get("phone") or "").strip():
        contacts.append(phone_contact(mobile["phone"], mobile.get("country_code") or data.get("country_code"),
                                      field_name="mobile.phone"))
    return contacts


def _is_own(customer: Customer, contact: Contact) -> bool:
    if contact.email:
        return any(e.email == contact.email for e in customer.emails.all())
    return any(p.e164 == contact.phone.e164 for p in customer.phones.all())


def _with_contact_added(customer: Customer, contact: Contact) -> dict:
    """update_customer's lists: the customer's contacts as they are, and ``contact`` new and unverified
    (primary only when the customer has none of its kind)."""
    if contact.email:
        emails = [{"email": e.email, "primary": e.primary, "verified": e.verified, "active": e.active}
                  for e in customer.emails.all()]
        return {"emails": emails + [{"email": contact.email, "primary": not emails, "verified": False}]}
    phones = [{"phone": p.e164, "primary": p.primary, "verified": p.verified, "active": p.active}
              for p in customer.phones.all()]
    return {"phone_numbers": phones + [{"phone": contact.phone.e164, "primary": not phones, "verified": False}]}


def update_profile(visit: Visit, customer: Customer, data: dict) -> Outcome:
    """updateProfile: the profile fields sent are set. An email or mobile the customer does not have yet is
    added unverified (not primary unless it is the first of its kind; unique among live customers, else
    409) and a one-time code is sent to it: ``verify_email_otp`` / ``verify_mobile_otp`` tell the client
    to finish with verifyEmailOTP / verifyMobileOTP, which mark it verified. One already theirs is left."""
    changes = _profile_changes(data)
    new_contacts = [c for c in _contacts_sent(data) if not _is_own(customer, c)]
    actor = customer_actor(customer)
    with transaction.atomic():
        customer_services.update_own_profile(visit.application, customer.id, changes, actor)
        for contact in new_contacts:
            current = customer_with_contacts(visit.application.id, customer.id)
            customer_services.update_customer(visit.application, customer.id, _with_contact_added(current, contact),
                                              actor)
            customer_services.record_event(customer.id, visit.application.id, events.CONTACT_ADDED, actor,
                                           data={**contact.as_data(), "via": "updateProfile"})
        fields = {"success": True, "verify_email_otp": False, "verify_mobile_otp": False, "verify_email_link": False,
                  "user_exists": True}
        for contact in new_contacts:
            issued = send_code(visit, contact, "login", name=changes.get("first_name") or customer.first_name)
            fields.update(code_fields(contact, issued))
            fields["verify_email_otp" if contact.email else "verify_mobile_otp"] = True
            if contact.email:
                fields["resend_email_token"] = issued.request_id
    fields["user"] = customer_with_contacts(visit.application.id, customer.id)
    return Outcome(fields)


# ----------------------------------------------------------------------------- deleteUser

def _primary(customer: Customer) -> tuple[Contact | None, Contact | None]:
    email = next((e.email for e in customer.emails.all() if e.primary), None)
    phone = next((p for p in customer.phones.all() if p.primary), None)
    return (Contact(email=email) if email else None,
            Contact(phone=Phone(phone.phone, phone.country_code)) if phone is not None else None)


def _check_reason(config: dict, reason_id: str, reason: str) -> dict:
    """The reason chosen: when the config lists reasons, reason_id must be one of them."""
    reasons = config.get("delete_account_reasons") or []
    chosen = next((r for r in reasons if r.get("reason_id") == reason_id), None)
    if reasons and chosen is None:
        known = ", ".join(str(r.get("reason_id")) for r in reasons[:20])
        raise ValidationFailed(f"reason_id must be one of the store's reasons: {known}.", code="invalid_reason",
                               meta={"reason_ids": [r.get("reason_id") for r in reasons]})
    return {"reason_id": reason_id, "reason": reason, "reason_text": (chosen or {}).get("reason_text", "")}


def delete_account(visit: Visit, customer: Customer, data: dict) -> Outcome:
    """deleteUser, in two calls. Without ``otp``: a code (purpose verify) goes to the primary mobile (else the
    primary email) and the answer carries its ``request_id``. With the right ``otp`` (and that request_id):
    the customer is archived for the config's delete_account_day (restorable until then), the reason and the
    consent text shown are recorded (account.deleted), every session ends and account_deleted messages go to
    the primary contacts. ``user_id`` must be the signed-in customer's (403 otherwise)."""
    if (data.get("user_id") or "") != customer.id:
        raise forbidden("user_id must be the signed-in customer's id.", "user_mismatch")
    config = config_of(visit.application)
    reason = _check_reason(config, data.get("reason_id") or "", (data.get("reason") or "").strip())
    email, phone = _primary(customer)
    target = phone or email
    if target is None:
        raise ValidationFailed("The account has no primary mobile or email to confirm the deletion with.")
    if not data.get("otp"):
        issued = send_code(visit, target, "verify", name=customer.first_name)
        return Outcome({**code_fields(target, issued), "success": True})
    check_code(visit, target, "verify", data.get("request_id"), data["otp"], customer_id=customer.id)
    actor = customer_actor(customer)
    with transaction.atomic():
        archived = customer_services.archive_customer(visit.application, customer.id, actor,
                                                      reason=reason["reason"] or reason["reason_text"] or
                                                      "deleted by the customer")
        consent = (config.get("delete_account_consent") or {}).get("consent_text", "")
        customer_services.record_event(customer.id, visit.application.id, events.ACCOUNT_DELETED, actor,
                                       reason=reason["reason"],
                                       data={**reason, "consent_text": consent, "ip": visit.ip,
                                             "restore_until": archived.restore_until.isoformat()})
        days = int(config.get("delete_account_day") or 0)
        for contact in (email, phone):
            if contact is not None:
                messages.send("account_deleted", channel=contact.channel, to=contact.address,
                              application=visit.application, context={"days": days, "first_name": customer.first_name})
    return Outcome({"success": True})


# ----------------------------------------------------------------------------- attributes

def customer_attributes(application, customer: Customer, slug: str | None = None) -> dict:
    """getUserAttributes: slug -> value of every definition the customer may edit (or the one ``slug``)."""
    definitions = attribute_selectors.customer_editable_definitions(application, [slug] if slug else None)
    return {"attributes": attribute_selectors.customer_editable_values(application, customer.id, definitions)}


def update_customer_attributes(application, customer: Customer, values) -> dict:
    """updateUserAttributes: the values sent (customer-editable definitions only), then every editable one."""
    attribute_services.set_customer_editable_values(application, customer.id, values, customer_actor(customer))
    return customer_attributes(application, customer)
