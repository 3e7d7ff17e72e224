"""Writes to customers and their rules. The API, the admin, Celery tasks and commands all call these."""

import json
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from core import files, jobs
from core.actors import Actor
from core.api.errors import Conflict, Gone, NotFound, ValidationFailed
from core.tenancy.models import Application
from users import customer_rows, events, hooks, job_customers
from users.contacts import Phone, normalize_email, parse_phone
from users.models import AuditEvent, Customer, CustomerEmail, CustomerPhone
from users.selectors import get_customer
from users.signals import customer_access_revoked

PROFILE_FIELDS = ("first_name", "last_name", "gender", "external_id", "rr_id", "meta")


_AUDIT_COLUMNS = ("application_id", "customer_id", "action", "reason", "actor_type", "actor_id", "actor_name", "data",
                  "request_id")
_AUDIT_INSERT = (f"INSERT INTO {AuditEvent._meta.db_table} ({', '.join(_AUDIT_COLUMNS)}, created_at) "
                 f"VALUES ({', '.join(['%s'] * len(_AUDIT_COLUMNS))}, statement_timestamp())")


def record_event(customer_id: str, application_id: str, action: str, actor: Actor, *, reason: str = "",
                 data: dict | None = None) -> None:
    """One audit event. Plain SQL: every sign-in, session and attribute write records one, and the ORM's
    model save cost more than the insert (the storefront bench)."""
    values = customer_rows.audit_values(application_id, customer_id, action, actor, reason=reason, data=data)
    row = [values[column] for column in _AUDIT_COLUMNS]
    row[_AUDIT_COLUMNS.index("data")] = json.dumps(values["data"], cls=DjangoJSONEncoder)
    with connection.cursor() as cursor:
        cursor.execute(_AUDIT_INSERT, row)


def record_job_event(job) -> None:
    """core.jobs' ended hook: a finished job's summary event (``job.completed``, also with row errors, or
    ``job.failed``), in the transaction that ends it, under the actor who started it. Its links are signed
    and expire after FILE_LINK_TTL_SECONDS, as every link to a job's file does."""
    failed = job.status == "failed"
    links = {key: files.signed_url(name) for key, name in (("result_file", job.result_file),
                                                          ("error_file", job.error_file)) if name}
    if job_customers.writes_customers(job):
        links["customers"] = job_customers.signed_link(job)
    data = {"job_id": job.pk, "kind": job.kind, "status": job.status, "total": job.total,
            "processed": job.processed, "success_count": job.success_count, "error_count": job.error_count,
            "links": links}
    if failed:
        data["error"] = job.error[:500]
    record_event("", job.application_id, events.JOB_FAILED if failed else events.JOB_COMPLETED,
                 jobs.actor_of(job), data=data)


# How many days an archived customer stays restorable, per application (None: the default). sessions_app
# registers the platform config's delete_account_day when it is ready.
ArchiveWindowSource = Callable[[Application], int | None]
_archive_window_source: ArchiveWindowSource | None = None


def register_archive_window(source: ArchiveWindowSource) -> None:
    global _archive_window_source
    _archive_window_source = source


def archive_window_days(application) -> int:
    """How long an archived customer stays restorable: the registered source's answer, else
    settings.DEFAULT_DELETE_ACCOUNT_DAYS."""
    days = _archive_window_source(application) if _archive_window_source else None
    return settings.DEFAULT_DELETE_ACCOUNT_DAYS if days is None else days


# --------------------------------------------------------------------------- uniqueness

def _taken_emails(application, emails: list[str], exclude_customer_id: str | None = None) -> list[str]:
    queryset = CustomerEmail.objects.filter(application=application, email__in=emails, is_live=True)
    if exclude_customer_id:
        queryset = queryset.exclude(customer_id=exclude_customer_id)
    return sorted(set(queryset.values_list("email", flat=True)))


def _taken_phones(application, phones: list[Phone], exclude_customer_id: str | None = None) -> list[str]:
    queryset = CustomerPhone.objects.filter(application=application, e164__in=[p.e164 for p in phones],
                                            is_live=True)
    if exclude_customer_id:
        queryset = queryset.exclude(customer_id=exclude_customer_id)
    return sorted(set(queryset.values_list("e164", flat=True)))


def _ensure_contacts_free(application, emails, phones, username=None, exclude_customer_id=None):
    taken_emails = _taken_emails(application, emails, exclude_customer_id) if emails else []
    taken_phones = _taken_phones(application, phones, exclude_customer_id) if phones else []
    if taken_emails or taken_phones:
        what = ", ".join([f"email {e}" for e in taken_emails] + [f"phone {p}" for p in taken_phones])
        raise Conflict(f"Already used by another customer of this application: {what}.",
                       code="duplicate_contact", meta={"emails": taken_emails, "phones": taken_phones})
    if username:
        queryset = Customer.objects.filter(application=application, archived=False, username__iexact=username)
        if exclude_customer_id:
            queryset = queryset.exclude(id=exclude_customer_id)
        if queryset.exists():
            raise Conflict(f"Username {username!r} is already used by another customer of this application.",
                           code="duplicate_username")


def _save_guarding_races(fn):
    """Two requests can pass the checks at once; the partial unique indexes then decide, as a 409."""
    try:
        with transaction.atomic():
            return fn()
    except IntegrityError as exc:
        text = str(exc)
        if "email_live_uniq" in text or "phone_live_uniq" in text or "customer_username_live_uniq" in text:
            raise Conflict("An email, phone or username is already used by another customer of this application.",
                           code="duplicate_contact")
        raise


# --------------------------------------------------------------------------- create / update

@transaction.atomic
def create_customer(application, data: dict, actor: Actor) -> Customer:
    """data: validated CreateUser fields. phone_number required; email optional."""
    phone = parse_phone(data["phone_number"], data.get("country_code"), field="phone_number")
    email = normalize_email(data["email"]) if data.get("email") else None
    username = customer_rows.username_for(data.get("username"), email, phone)
    _ensure_contacts_free(application, [email] if email else [], [phone], username)
    profile = {f: data[f] for f in PROFILE_FIELDS if data.get(f) is not None}
    hooked = hooks.checked(data)  # password_hash (users.hooks: the accounts app stores it)

    def write():
        customer = Customer.objects.create(**customer_rows.customer_values(application.id, username, profile,
                                                                           **hooks.customer_values(hooked)))
        CustomerPhone.objects.create(**customer_rows.first_phone(customer.id, application.id, phone))
        if email:
            CustomerEmail.objects.create(**customer_rows.first_email(customer.id, application.id, email))
        hooks.store(application, customer.id, hooked, actor, new=True)
        AuditEvent.objects.create(**customer_rows.created_event(application.id, customer.id, actor,
                                                                username=username, email=email, phone=phone,
                                                                source={name: "set" for name in hooked}))
        return customer

    return _save_guarding_races(write)


@transaction.atomic
def register_customer(application, *, profile: dict, email: str | None, phone: Phone | None, actor: Actor,
                      email_verified: bool = False, phone_verified: bool = False) -> Customer:
    """A customer signing up on the storefront (accounts/): an email (normalised), a phone (parsed) or
    both, each unverified unless its one-time code was already checked. createUser's uniqueness rules."""
    if not email and phone is None:
        raise ValidationFailed("An email or a mobile number is required.")
    username = customer_rows.username_for(None, email, phone)
    _ensure_contacts_free(application, [email] if email else [], [phone] if phone else [], username)
    profile = {f: profile[f] for f in PROFILE_FIELDS if profile.get(f) is not None}

    def write():
        customer = Customer.objects.create(**customer_rows.customer_values(application.id, username, profile))
        if phone is not None:
            CustomerPhone.objects.create(**customer_rows.first_phone(customer.id, application.id, phone,
                                                                     verified=phone_verified))
        if email:
            CustomerEmail.objects.create(**customer_rows.first_email(customer.id, application.id, email,
                                                                     verified=email_verified))
        AuditEvent.objects.create(**customer_rows.created_event(application.id, customer.id, actor,
                                                                username=username, email=email, phone=phone,
                                                                source={"source": "storefront"}))
        return customer

    return _save_guarding_races(write)


@transaction.atomic
def mark_verified(application, customer_id: str, *, email: str | None = None, phone: Phone | None = None,
                  actor: Actor) -> bool:
    """Mark the customer's email or phone verified (a code or link proved it; audited when it was not yet);
    False when it is not theirs."""
    if email:
        contacts = CustomerEmail.objects.filter(application=application, customer_id=customer_id, email=email)
        what = {"email": email}
    else:
        contacts = CustomerPhone.objects.filter(application=application, customer_id=customer_id, e164=phone.e164)
        what = {"phone": phone.e164}
    found = list(contacts.values_list("verified", flat=True))
    if not found:
        return False
    if not all(found) and contacts.filter(verified=False).update(verified=True):
        record_event(customer_id, application.id, events.CONTACT_VERIFIED, actor, data=what)
    return True


def _normalize_contact_lists(data: dict):
    emails = phones = None
    if data.get("emails") is not None:
        emails = []
        for index, item in enumerate(data["emails"]):
            emails.append({**item, "email": normalize_email(item["email"], field=f"emails[{index}].email")})
        _check_primary(emails, "emails", key="email")
    if data.get("phone_numbers") is not None:
        phones = []
        for index, item in enumerate(data["phone_numbers"]):
            parsed = parse_phone(item["phone"], item.get("country_code"), field=f"phone_numbers[{index}].phone")
            phones.append({**item, "parsed": parsed})
        if not phones:
            raise ValidationFailed("phone_numbers: a customer keeps at least one phone number.")
        _check_primary(phones, "phone_numbers", key="parsed")
    return emails, phones


def _check_primary(items: list[dict], field: str, key: str):
    if not items:
        return
    values = [item[key] for item in items]
    if len(set(values)) != len(values):
        raise ValidationFailed(f"{field}: the list has the same entry twice.")
    primaries = sum(1 for item in items if item.get("primary"))
    if len(items) == 1 and primaries == 0:
        items[0]["primary"] = True
    elif primaries != 1:
        raise ValidationFailed(f"{field}: exactly one entry must be primary (found {primaries}).")


def _replace_contacts(model, values, customer: Customer, items: list[dict], key: str) -> None:
    """The customer's emails or phones become ``items`` (checked lists: ``item[key]`` is the address)."""
    model.objects.filter(customer=customer).delete()
    model.objects.bulk_create(
        model(**values(customer.id, customer.application_id, item[key], primary=bool(item.get("primary")),
                       verified=bool(item.get("verified", False)), active=bool(item.get("active", True))))
        for item in items
    )


@transaction.atomic
def update_customer(application, user_id: str, data: dict, actor: Actor) -> Customer:
    """PUT semantics of the SDK: profile fields sent are set; emails / phone_numbers sent replace the lists."""
    emails, phones = _normalize_contact_lists(data)
    hooked = hooks.checked(data)  # password_hash (users.hooks)
    customer = get_customer(application, user_id, include_archived=False, lock=True)
    _ensure_contacts_free(
        application,
        [e["email"] for e in emails] if emails else [],
        [p["parsed"] for p in phones] if phones else [],
        exclude_customer_id=customer.id,
    )

    def write():
        changed = {}
        for field in PROFILE_FIELDS:
            if field in data and data[field] is not None and getattr(customer, field) != data[field]:
                changed[field] = data[field]
                setattr(customer, field, data[field])
        if emails is not None:
            _replace_contacts(CustomerEmail, customer_rows.email_values, customer, emails, key="email")
            changed["emails"] = [e["email"] for e in emails]
        if phones is not None:
            _replace_contacts(CustomerPhone, customer_rows.phone_values, customer, phones, key="parsed")
            changed["phone_numbers"] = [p["parsed"].e164 for p in phones]
        stored = hooks.store(application, customer.id, hooked, actor, new=False)
        for name, value in hooks.customer_values({name: hooked[name] for name in stored}).items():
            setattr(customer, name, value)
        changed.update({name: "set" for name in stored})  # never the value
        customer.version = F("version") + 1
        customer.save()
        customer.refresh_from_db()
        AuditEvent.objects.create(**customer_rows.updated_event(application.id, customer.id, actor, changed))
        return customer

    return _save_guarding_races(write)


STOREFRONT_PROFILE_FIELDS = ("first_name", "last_name", "gender", "dob", "profile_pic_url")


@transaction.atomic
def update_own_profile(application, user_id: str, changes: dict, actor: Actor) -> Customer:
    """updateProfile on the storefront: the customer's own STOREFRONT_PROFILE_FIELDS (checked by the
    caller; dob a date). Contacts have their own rules. Audited as customer.updated with what changed."""
    customer = get_customer(application, user_id, include_archived=False, lock=True)
    changed = {}
    for name in STOREFRONT_PROFILE_FIELDS:
        if name in changes and getattr(customer, name) != changes[name]:
            setattr(customer, name, changes[name])
            changed[name] = changes[name].isoformat() if name == "dob" else changes[name]
    if changed:
        customer.version = F("version") + 1
        customer.save()
        customer.refresh_from_db()
        AuditEvent.objects.create(**customer_rows.updated_event(application.id, customer.id, actor, changed))
    return customer


# --------------------------------------------------------------------------- block / archive / restore

def _revoke_access_on_commit(application_id: str, customer_ids: list[str], reason: str, actor: Actor) -> None:
    """Once the block / archive commits, tell listeners (sessions_app ends the customers' sessions)."""
    transaction.on_commit(
        lambda: customer_access_revoked.send(sender=Customer, application_id=application_id,
                                             customer_ids=customer_ids, reason=reason, actor=actor),
        robust=True,
    )


@transaction.atomic
def set_customers_active(application, user_ids: list[str], active: bool, reason: str, actor: Actor) -> int:
    """Block (active=False) or unblock customers, all or nothing: unknown ids are reported as a 404."""
    if not reason or not reason.strip():
        raise ValidationFailed("reason is required.")
    unique_ids = list(dict.fromkeys(user_ids))
    customers = list(
        Customer.objects.select_for_update()
        .filter(application=application, archived=False, id__in=unique_ids)
        .order_by("id")
    )
    found = {c.id for c in customers}
    unknown = [i for i in unique_ids if i not in found]
    if unknown:
        raise NotFound(f"No customer in this application with id {', '.join(unknown[:20])}"
                       f"{' …' if len(unknown) > 20 else ''}; nothing was changed.",
                       code="user_not_found", meta={"unknown_ids": unknown})
    action = events.CUSTOMER_UNBLOCKED if active else events.CUSTOMER_BLOCKED
    changed = [c for c in customers if c.active != active]
    Customer.objects.filter(id__in=[c.id for c in changed]).update(
        active=active, version=F("version") + 1, updated_at=timezone.now())
    for customer in customers:
        record_event(customer.id, application.id, action, actor, reason=reason,
                     data={} if customer in changed else {"unchanged": True})
    if not active:
        _revoke_access_on_commit(application.id, [c.id for c in customers], reason, actor)
    return len(changed)


@transaction.atomic
def archive_customer(application, user_id: str, actor: Actor, reason: str = "") -> Customer:
    customer = get_customer(application, user_id, lock=True)
    if customer.archived:
        raise Conflict(f"Customer {user_id} is already archived.", code="already_archived")
    now = timezone.now()
    customer.archived = True
    customer.archived_at = now
    customer.restore_until = now + timedelta(days=archive_window_days(application))
    customer.version = F("version") + 1
    customer.save()
    CustomerEmail.objects.filter(customer=customer).update(is_live=False)
    CustomerPhone.objects.filter(customer=customer).update(is_live=False)
    record_event(customer.id, application.id, events.CUSTOMER_ARCHIVED, actor, reason=reason,
                 data={"restore_until": customer.restore_until.isoformat()})
    _revoke_access_on_commit(application.id, [customer.id], reason or "customer archived", actor)
    customer.refresh_from_db()
    return customer


def restore_customer(application, user_id: str, reason: str, actor: Actor, reason_id: str = "") -> Customer:
    if not reason or not reason.strip():
        raise ValidationFailed("reason is required.")
    with transaction.atomic():
        customer = get_customer(application, user_id, lock=True)
        if not customer.archived:
            raise Conflict(f"Customer {user_id} is not archived.", code="not_archived")
        if customer.restore_until and customer.restore_until < timezone.now():
            raise Gone(f"Customer {user_id} can no longer be restored: the restore window ended on "
                       f"{customer.restore_until:%Y-%m-%d %H:%M} UTC.", code="restore_window_passed")
        emails = list(customer.emails.values_list("email", flat=True))
        phones = [Phone(p.phone, p.country_code) for p in customer.phones.all()]
        _ensure_contacts_free(application, emails, phones, customer.username, exclude_customer_id=customer.id)

        def write():
            customer.archived = False
            customer.archived_at = None
            customer.restore_until = None
            customer.version = F("version") + 1
            customer.save()
            CustomerEmail.objects.filter(customer=customer).update(is_live=True)
            CustomerPhone.objects.filter(customer=customer).update(is_live=True)
            record_event(customer.id, application.id, events.CUSTOMER_RESTORED, actor, reason=reason,
                         data={"reason_id": reason_id} if reason_id else {})
            customer.refresh_from_db()
            return customer

        return _save_guarding_races(write)


def purge_archived_customers(now=None, batch_size: int = 500) -> int:
    """Remove for good the customers whose restore window has passed. Returns how many."""
    now = now or timezone.now()
    purged = 0
    actor = Actor.system("purge_archived_customers")
    while True:
        with transaction.atomic():
            batch = list(
                Customer.objects.select_for_update(skip_locked=True)
                .filter(archived=True, restore_until__lt=now)
                .values_list("id", "application_id")[:batch_size]
            )
            if not batch:
                return purged
            ids = [customer_id for customer_id, _ in batch]
            # The trail of a purged customer holds personal data: keep only the fact of the purge.
            for app_id in {application_id for _, application_id in batch}:  # audit_customer_idx
                AuditEvent.objects.filter(application_id=app_id,
                                          customer_id__in=[c for c, a in batch if a == app_id]).delete()
            Customer.objects.filter(id__in=ids).delete()
            AuditEvent.objects.bulk_create(
                AuditEvent(**customer_rows.audit_values(app_id, customer_id, events.CUSTOMER_PURGED, actor))
                for customer_id, app_id in batch
            )
            purged += len(ids)


# --------------------------------------------------------------------------- one contact at a time (storefront)

def _one_contact(email: str | None, phone: Phone | None):
    """The model, the filter and the audit data of one email (normalised) or phone (parsed)."""
    if email:
        return CustomerEmail, {"email": email}, {"email": email}
    return CustomerPhone, {"e164": phone.e164}, {"phone": phone.e164}


def _lock_live_customer(application, customer_id: str) -> None:
    """Serialises contact changes of one customer (the one-primary rule is checked under this lock)."""
    if not Customer.objects.select_for_update().filter(id=customer_id, application=application,
                                                        archived=False).exists():
        raise NotFound(f"No customer {customer_id} in this application.", code="user_not_found")


def _touch(customer_id: str) -> None:
    Customer.objects.filter(id=customer_id).update(version=F("version") + 1, updated_at=timezone.now())


@transaction.atomic
def add_contact(application, customer_id: str, *, email: str | None = None, phone: Phone | None = None,
                actor: Actor, verified: bool = False, primary: bool = False) -> bool:
    """Add one email or phone to a customer (createUser's uniqueness among live customers: 409). The first
    of its kind is primary; ``primary=True`` makes it the primary (the previous one stays, not primary).
    A contact the customer already has only gains the flags asked for. True when one was added."""
    model, match, what = _one_contact(email, phone)
    _lock_live_customer(application, customer_id)
    _ensure_contacts_free(application, [email] if email else [], [phone] if phone else [],
                          exclude_customer_id=customer_id)

    def write():
        siblings = model.objects.filter(customer_id=customer_id)
        existing = siblings.filter(**match).first()
        make_primary = primary or not siblings.filter(primary=True).exists()
        if make_primary:
            siblings.filter(primary=True).exclude(**match).update(primary=False)
        if existing is None:
            values = customer_rows.email_values if email else customer_rows.phone_values
            model.objects.create(**values(customer_id, application.id, email or phone, primary=make_primary,
                                          verified=verified))
            record_event(customer_id, application.id, events.CONTACT_ADDED, actor,
                         data={**what, "primary": make_primary, "verified": verified})
        else:
            if verified and not existing.verified:
                siblings.filter(pk=existing.pk).update(verified=True)
                record_event(customer_id, application.id, events.CONTACT_VERIFIED, actor, data=what)
            if make_primary and not existing.primary:
                siblings.filter(pk=existing.pk).update(primary=True)
                AuditEvent.objects.create(**customer_rows.updated_event(application.id, customer_id, actor,
                                                                        {"primary": what}))
        _touch(customer_id)
        return existing is None

    return _save_guarding_races(write)


@transaction.atomic
def set_primary_contact(application, customer_id: str, *, email: str | None = None, phone: Phone | None = None,
                        actor: Actor) -> None:
    """Make one of the customer's emails or phones the primary of its kind (404 when not theirs)."""
    model, match, what = _one_contact(email, phone)
    _lock_live_customer(application, customer_id)
    siblings = model.objects.filter(customer_id=customer_id)
    if not siblings.filter(**match).exists():
        raise NotFound(f"This customer has no {' '.join(f'{k} {v}' for k, v in what.items())}.",
                       code="contact_not_found")
    siblings.filter(primary=True).exclude(**match).update(primary=False)
    if siblings.filter(**match, primary=False).update(primary=True):
        AuditEvent.objects.create(**customer_rows.updated_event(application.id, customer_id, actor, {"primary": what}))
        _touch(customer_id)


@transaction.atomic
def remove_contact(application, customer_id: str, *, email: str | None = None, phone: Phone | None = None,
                   actor: Actor) -> None:
    """Remove one of the customer's emails or phones (404 when not theirs). The primary goes only when it is
    the last of its kind: otherwise another must be made primary first (400 ``primary_contact``)."""
    model, match, what = _one_contact(email, phone)
    _lock_live_customer(application, customer_id)
    siblings = model.objects.filter(customer_id=customer_id)
    contact = siblings.filter(**match).first()
    if contact is None:
        raise NotFound(f"This customer has no {' '.join(f'{k} {v}' for k, v in what.items())}.",
                       code="contact_not_found")
    if contact.primary and siblings.count() > 1:
        raise ValidationFailed("This is the primary one: make another one primary first.", code="primary_contact")
    contact.delete()
    record_event(customer_id, application.id, events.CONTACT_REMOVED, actor, data=what)
    _touch(customer_id)


# ----------------------------------------------------------------------------- social sign-in identities

def link_identity(application, customer_id: str, *, provider: str, subject: str, email: str = "",
                  actor: Actor) -> bool:
    """Link a provider identity (Google, Facebook, Apple: its subject) to the customer, audited
    (``identity.linked``). False when it already was linked to this customer; 409 ``identity_taken`` when it
    is another customer's (a provider subject signs in to one customer of the application only)."""
    from users.models import LinkedIdentity

    if provider not in dict(LinkedIdentity.PROVIDERS):
        raise ValidationFailed(f"provider must be one of {', '.join(dict(LinkedIdentity.PROVIDERS))}.")
    subject = str(subject or "").strip()
    if not subject or len(subject) > 255:
        raise ValidationFailed("subject must be 1 to 255 characters.")
    owner = (LinkedIdentity.objects.filter(application=application, provider=provider, subject=subject)
             .values_list("customer_id", flat=True).first())
    if owner == customer_id:
        return False
    if owner is not None:
        raise Conflict(f"This {provider} account is already linked to another customer.", code="identity_taken")
    try:
        with transaction.atomic():
            LinkedIdentity.objects.create(customer_id=customer_id, application=application, provider=provider,
                                          subject=subject, email=(email or "")[:254])
    except IntegrityError:  # linked by a concurrent request in the meantime
        raise Conflict(f"This {provider} account is already linked to a customer.", code="identity_taken") from None
    record_event(customer_id, application.id, events.IDENTITY_LINKED, actor,
                 data={"provider": provider, "subject": subject, "email": email or ""})
    return True


def unlink_identity(application, customer_id: str, provider: str, subject: str, actor: Actor) -> None:
    """Remove one linked identity of the customer, audited (``identity.unlinked``); 404 when there is none.
    The customer then signs in with that provider account only after linking it again (by a verified
    email or registration, docs/accounts.md)."""
    from users.models import LinkedIdentity

    with transaction.atomic():
        deleted, _ = LinkedIdentity.objects.filter(application=application, customer_id=customer_id,
                                                   provider=provider, subject=subject).delete()
        if not deleted:
            raise NotFound(f"The customer has no linked {provider} identity {subject}.", code="identity_not_found")
        record_event(customer_id, application.id, events.IDENTITY_UNLINKED, actor,
                     data={"provider": provider, "subject": subject})
