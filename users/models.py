"""Customers of an application, their emails and phones, and the audit trail of every write."""

from django.contrib.postgres.indexes import OpClass
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from core.ids import new_object_id
from core.tenancy.models import Application


class Customer(models.Model):
    id = models.CharField(primary_key=True, max_length=24, default=new_object_id, editable=False)
    # No index of its own: customer_list_idx (and the others) lead with the application.
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="customers", db_index=False)
    first_name = models.CharField(max_length=100, blank=True, default="")
    last_name = models.CharField(max_length=100, blank=True, default="")
    gender = models.CharField(max_length=30, blank=True, default="")
    dob = models.DateField(null=True, blank=True)
    username = models.CharField(max_length=150)
    profile_pic_url = models.CharField(max_length=1000, blank=True, default="")
    account_type = models.CharField(max_length=30, default="user")
    external_id = models.CharField(max_length=100, blank=True, default="")
    rr_id = models.CharField(max_length=100, blank=True, default="")
    meta = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(default=True, help_text="False while the customer is blocked.")
    archived = models.BooleanField(default=False, help_text="Deleted from the sales channel, restorable for a while.")
    archived_at = models.DateTimeField(null=True, blank=True)
    restore_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=0)
    # A password hash moved in from another platform waits to be re-hashed at the first sign-in
    # (docs/migration.md). A database default: the COPY loaders leave the column out.
    has_old_password_hash = models.BooleanField(default=False, db_default=False)

    class Meta:
        indexes = [
            models.Index(fields=["application", "archived", "-created_at", "-id"], name="customer_list_idx"),
            # Prefix search (users/search.py): the application first, then the lower-cased text; the
            # INCLUDEd columns let a name fragment matching thousands of customers be counted and
            # ordered from the index alone (index-only scans; docs/bench.md).
            models.Index("application", OpClass(Lower("first_name"), name="varchar_pattern_ops"),
                         name="customer_first_prefix_idx", include=["first_name", "archived", "created_at", "id"]),
            models.Index("application", OpClass(Lower("last_name"), name="varchar_pattern_ops"),
                         name="customer_last_prefix_idx", include=["last_name", "archived", "created_at", "id"]),
            models.Index("application", OpClass(Lower("username"), name="varchar_pattern_ops"),
                         name="customer_username_prefix_idx", include=["username", "archived", "created_at", "id"]),
            models.Index(fields=["archived_at"], condition=Q(archived=True), name="customer_archived_idx"),
            # Most customers have no external id: those rows stay out of the index (cheaper writes).
            models.Index(fields=["application", "external_id"], name="customer_external_id_idx",
                         condition=~Q(external_id="")),
            # The console's overview counts the blocked customers (usually few) from this index alone.
            models.Index(fields=["application"], name="customer_blocked_idx", condition=Q(active=False, archived=False)),
        ]
        constraints = [
            models.UniqueConstraint(
                Lower("username"), "application", condition=Q(archived=False), name="customer_username_live_uniq"
            ),
        ]

    def __str__(self):
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.username

    @property
    def status(self) -> str:
        if self.archived:
            return "archived"
        return "active" if self.active else "blocked"


class CustomerContact(models.Model):
    """What an email and a phone of a customer share. ``is_live`` mirrors "customer not archived" so
    uniqueness is an index.

    Plain indexes only (each Meta): Django would add a LIKE index to each, which no query uses, and every
    import pays for every index."""

    # Always the customer's application (the services copy it): no database check of its own, which
    # a million-row import would pay a million times at commit. Deleting an application still cascades.
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="+", db_index=False,
                                    db_constraint=False)
    primary = models.BooleanField(default=False)
    verified = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    is_live = models.BooleanField(default=True)

    class Meta:
        abstract = True
        ordering = ["-primary", "id"]


class CustomerEmail(CustomerContact):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="emails", db_index=False)
    email = models.CharField(max_length=254)

    class Meta(CustomerContact.Meta):
        indexes = [
            models.Index("application", OpClass("email", name="varchar_pattern_ops"), name="email_app_prefix_idx",
                         include=["customer"]),
            models.Index(fields=["customer"], name="email_customer_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["application", "email"], condition=Q(is_live=True),
                                    name="email_live_uniq"),
        ]

    def __str__(self):
        return self.email


class CustomerPhone(CustomerContact):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="phones", db_index=False)
    phone = models.CharField(max_length=20, help_text="National significant number, digits only.")
    country_code = models.PositiveSmallIntegerField()
    e164 = models.CharField(max_length=20)

    class Meta(CustomerContact.Meta):
        indexes = [
            models.Index("application", OpClass("phone", name="varchar_pattern_ops"), name="phone_app_prefix_idx",
                         include=["country_code", "customer"]),
            models.Index(fields=["customer"], name="phone_customer_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["application", "e164"], condition=Q(is_live=True),
                                    name="phone_live_uniq"),
        ]

    def __str__(self):
        return self.e164


class LinkedIdentity(models.Model):
    """A social sign-in identity (Google, Facebook, Apple) linked to the customer: the provider's subject
    (its user id) signs in to this customer only. Emails are as the provider gave them when linked."""

    PROVIDERS = (("google", "Google"), ("facebook", "Facebook"), ("apple", "Apple"))

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities", db_index=False)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="+", db_index=False)
    provider = models.CharField(max_length=16, choices=PROVIDERS)
    subject = models.CharField(max_length=255)
    email = models.CharField(max_length=254, blank=True, default="")
    linked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "linked identities"
        indexes = [models.Index(fields=["customer"], name="identity_customer_idx")]
        constraints = [
            models.UniqueConstraint(fields=["application", "provider", "subject"], name="identity_subject_uniq"),
        ]

    def __str__(self):
        return f"{self.provider}:{self.subject}"


class ApplicationCustomerCount(models.Model):
    """Customer totals per application, kept by database triggers (see migration 0002) so that
    list pages report ``item_total`` without counting a million rows."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE, primary_key=True,
                                       related_name="customer_count")
    total = models.BigIntegerField(default=0)
    archived = models.BigIntegerField(default=0)


class ActivityHour(models.Model):
    """Storefront sign-ups and sign-ins of one application in one closed hour, counted once from the event log
    by the console's overview (users/overview.py) so that it never recounts a month of events; outlives the
    events' retention."""

    pk = models.CompositePrimaryKey("application_id", "hour")
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="+",
                                    db_index=False)  # the primary key leads with it
    hour = models.DateTimeField()  # its start
    sign_ups = models.PositiveIntegerField(default=0)
    sign_ins = models.PositiveIntegerField(default=0)


class AuditEvent(models.Model):
    """Who did what to which customer, and why: the service's one event log (docs/events.md). Written in the
    transaction of the change it describes; read-only everywhere; the customer timeline's source and the
    events integrations pull (``sequence``) and receive by webhook."""

    ACTOR_API_CLIENT = "api_client"
    ACTOR_STAFF = "staff"
    ACTOR_SYSTEM = "system"

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="audit_events",
                                    db_index=False, db_constraint=False)  # audit_customer_idx leads with it
    customer_id = models.CharField(max_length=24)  # audit_customer_idx: reads give the application too
    action = models.CharField(max_length=60)
    reason = models.TextField(blank=True, default="")
    actor_type = models.CharField(max_length=20)
    actor_id = models.CharField(max_length=64, blank=True, default="")
    actor_name = models.CharField(max_length=200, blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The event log: a published event gets its ``sequence`` (increasing, in the order events become
    # visible) from users.eventlog's sequencer shortly after its transaction commits. The per-customer
    # rows of a bulk job are timeline entries only (not published): the job's summary event stands for
    # them. Events written before the log existed stay unpublished (the migration's default).
    published = models.BooleanField(default=True, db_default=True)
    version = models.PositiveSmallIntegerField(default=1, db_default=1)  # of the payload (``data``) format
    sequence = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["application", "customer_id", "-created_at"], name="audit_customer_idx"),
            models.Index(fields=["application", "sequence"], name="event_sequence_idx",
                         condition=Q(sequence__isnull=False)),
            models.Index(fields=["id"], name="event_unsequenced_idx", condition=Q(sequence__isnull=True,
                                                                                 published=True)),
            models.Index(fields=["created_at"], name="event_application_level_idx", condition=Q(customer_id="")),
            # Sign-ups and sign-ins per day on the console's overview (users/overview.py), index-only.
            models.Index(fields=["application", "action", "created_at"], name="event_account_activity_idx",
                         condition=Q(action__in=["account.signed_up", "account.signed_in"])),
        ]

    def __str__(self):
        return f"{self.action} {self.customer_id}"

    @property
    def event_id(self) -> str:
        """The event's id on the wire (event_id_of)."""
        return event_id_of(self.id, self.created_at)


def event_id_of(row_id: int, created_at=None) -> str:
    """An event's id on the wire: 24 hex digits, its time in seconds (zeros when unknown) then its row id."""
    seconds = int(created_at.timestamp()) if created_at is not None else 0
    return f"{seconds:08x}{row_id:016x}"


def event_row_of(event_id) -> int | None:
    """The row an event id names, or None when it is not one."""
    if not isinstance(event_id, str) or len(event_id) != 24:
        return None
    try:
        return int(event_id[8:], 16)
    except ValueError:
        return None
