"""Customers as the Fynd SDK's UserSchema / UserSearchSchema expect them (strings never null)."""

from core.timefmt import iso
from users.models import Customer
from users.schema import Email, PhoneNumber, User


def email_dict(email) -> Email:
    return {"email": email.email, "active": email.active, "primary": email.primary, "verified": email.verified}


def phone_dict(phone) -> PhoneNumber:
    return {"phone": phone.phone, "country_code": phone.country_code, "active": phone.active,
            "primary": phone.primary, "verified": phone.verified}


def identity_dict(identity) -> dict:
    return {"provider": identity.provider, "subject": identity.subject, "email": identity.email,
            "linked_at": iso(identity.linked_at)}


def customer_dict(customer: Customer, *, identities: list | None = None) -> User:
    """``identities`` (users.selectors.identities_of), when there are any, are shown as
    ``meta.linked_identities`` (getCustomer): a key the service sets, over any the stored meta has."""
    data: User = {
        "_id": customer.id,
        "user_id": customer.id,
        "application_id": customer.application_id,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "gender": customer.gender,
        "dob": customer.dob.isoformat() if customer.dob else "",
        "username": customer.username,
        "profile_pic_url": customer.profile_pic_url,
        "account_type": customer.account_type,
        "external_id": customer.external_id,
        "rr_id": customer.rr_id,
        "meta": customer.meta or {},
        "active": customer.active,
        "archive": customer.archived,
        "status": customer.status,
        "emails": [email_dict(e) for e in customer.emails.all()],
        "phone_numbers": [phone_dict(p) for p in customer.phones.all()],
        "created_at": iso(customer.created_at),
        "updated_at": iso(customer.updated_at),
        "has_old_password_hash": customer.has_old_password_hash,  # an imported hash not yet re-hashed
        "__v": customer.version,
    }
    if identities:
        data["meta"] = {**data["meta"], "linked_identities": [identity_dict(i) for i in identities]}
    if customer.archived:
        data["deleted_on"] = iso(customer.archived_at)
        data["restore_until"] = iso(customer.restore_until)
    return data
