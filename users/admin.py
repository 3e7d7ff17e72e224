"""Admin console: customers (read-only, changed through users.services by actions) and the audit trail."""

import re

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IS_FACETS_VAR, IS_POPUP_VAR, TO_FIELD_VAR
from django.contrib.admin.views.main import ALL_VAR, ERROR_FLAG, ORDER_VAR, PAGE_VAR, SEARCH_VAR
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce, Lower
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.text import smart_split, unescape_string_literal

from core.actors import Actor
from core.tenancy.scoping import CompanyScopedAdminMixin, CompanyScopedRelatedFilter, ReadOnlyAdminMixin, scope_queryset
from core.api.errors import ServiceError
from core.ids import is_object_id
from core.tenancy.models import Application
from users import services
from users.contacts import looks_like_phone, split_calling_code
from users.models import ApplicationCustomerCount, AuditEvent, Customer, CustomerEmail, CustomerPhone, LinkedIdentity
from users.selectors import with_contacts
from users.admin_create import CustomerCreateAdminMixin, CustomerEditAdminMixin
from users.transfers.admin import CustomerImportAdminMixin

MAX_ERRORS_SHOWN = 10
TIMELINE_SHOWN = 20


class ReadOnlyInline(ReadOnlyAdminMixin, CompanyScopedAdminMixin, admin.TabularInline):
    company_field = "application__company"
    extra = 0
    can_delete = False
    show_change_link = False


class CustomerEmailInline(ReadOnlyInline):
    model = CustomerEmail
    verbose_name_plural = "emails"
    fields = ("email", "primary", "verified", "active")
    readonly_fields = fields


class CustomerPhoneInline(ReadOnlyInline):
    model = CustomerPhone
    verbose_name_plural = "phone numbers"
    fields = ("e164", "country_code", "phone", "primary", "verified", "active")
    readonly_fields = fields


class LinkedIdentityInline(ReadOnlyInline):
    """The customer's social sign-in identities; unlinking is the "Linked identities" page's action."""

    model = LinkedIdentity
    verbose_name_plural = "linked sign-in identities (Google, Facebook, Apple)"
    fields = ("provider", "subject", "email", "linked_at", "unlink")
    readonly_fields = fields

    @admin.display(description="unlink")
    def unlink(self, obj):
        if not obj.pk:
            return "-"
        url = reverse(f"{self.admin_site.name}:users_linkedidentity_changelist")
        return format_html('<a href="{}?customer_id={}">unlink…</a>', url, obj.customer_id)


def _prefix_search(term: str) -> Q:
    """Customers one search term matches, by prefix, each branch an index scan (see the models'
    varchar_pattern_ops indexes): email, phone (with or without country code), first / last /
    username, or an exact customer id."""
    lowered = term.lower()
    branches = [
        CustomerEmail.objects.filter(email__startswith=lowered).values("customer_id").order_by(),
        Customer.objects.alias(v=Lower("first_name")).filter(v__startswith=lowered).values("id").order_by(),
        Customer.objects.alias(v=Lower("last_name")).filter(v__startswith=lowered).values("id").order_by(),
        Customer.objects.alias(v=Lower("username")).filter(v__startswith=lowered).values("id").order_by(),
    ]
    if looks_like_phone(term):
        digits = re.sub(r"\D", "", term)
        phone_q = Q(phone__startswith=digits)
        # "+91 98765 43210", "919876543210": the leading digits may be a country calling code.
        split = split_calling_code(digits)
        if split is not None and split[1]:
            phone_q |= Q(country_code=split[0], phone__startswith=split[1])
        branches.append(CustomerPhone.objects.filter(phone_q).values("customer_id").order_by())
    matches = branches[0].union(*branches[1:])
    q = Q(id__in=matches)
    if is_object_id(term):
        q |= Q(id=term)
    return q


# Changelist query-string parameters that do not narrow the rows (paging, ordering, popups, ...).
NOT_FILTERS = {PAGE_VAR, ORDER_VAR, ALL_VAR, ERROR_FLAG, IS_POPUP_VAR, TO_FIELD_VAR, IS_FACETS_VAR}
APPLICATION_FILTER = "application__id__exact"  # the RelatedFieldListFilter's parameter
ARCHIVED_FILTER = "archived__exact"  # the BooleanFieldListFilter's parameter


def counted_customers(request) -> int | None:
    """How many customers the changelist of ``request`` lists, read from ApplicationCustomerCount
    (kept exact by database triggers, so equal to COUNT(*)), summed over the applications the user
    may see; or None when that is not known from the totals: a search, or any filter but
    application / archived (then the paginator counts the rows).

    Relies on CustomerAdmin.get_queryset narrowing the rows by company only.
    """
    application_ids = archived = None
    for key in request.GET:
        values = request.GET.getlist(key)
        if key == SEARCH_VAR:
            if any(value.strip() for value in values):  # CustomerAdmin's search ignores blanks
                return None
        elif key == APPLICATION_FILTER:
            application_ids = set(values)  # several values: any of them, as the filter does
        elif key == ARCHIVED_FILTER:
            try:
                archived = {Customer._meta.get_field("archived").to_python(value) for value in values}
            except ValidationError:
                return None
        elif key not in NOT_FILTERS:
            return None
    rows = scope_queryset(ApplicationCustomerCount.objects.all(), "application__company", request)
    if application_ids is not None:
        rows = rows.filter(application_id__in=application_ids)
    sums = rows.aggregate(total=Coalesce(Sum("total"), 0), archived=Coalesce(Sum("archived"), 0))
    if archived == {True}:
        return sums["archived"]
    if archived == {False}:
        return sums["total"] - sums["archived"]
    return sums["total"]


class CustomerPaginator(Paginator):
    """A Paginator whose ``count`` is ``counted()`` when that answers (see counted_customers),
    instead of a COUNT(*) over up to a million customers."""

    def __init__(self, object_list, per_page, orphans=0, allow_empty_first_page=True, counted=None):
        super().__init__(object_list, per_page, orphans, allow_empty_first_page)
        self.counted = counted

    @cached_property
    def count(self):
        total = self.counted() if self.counted is not None else None
        return super().count if total is None else total


@admin.register(Customer)
class CustomerAdmin(CustomerCreateAdminMixin, CustomerEditAdminMixin, CustomerImportAdminMixin, ReadOnlyAdminMixin,
                    CompanyScopedAdminMixin, admin.ModelAdmin):
    """Customers are looked up, added (users.admin_create: createUser's rules), blocked, unblocked, archived
    and restored here (users.services, which audit every change).

    Read-only pages (ReadOnlyAdminMixin): no direct field edits, the actions go through users.services; no
    deletes, archive instead (the purge job removes them for good).
    """

    company_field = "application__company"
    list_display = ("__str__", "emails_display", "phones_display", "username", "application", "active",
                    "archived", "created_at")
    list_display_links = ("__str__",)
    list_select_related = ("application",)
    list_filter = ("active", "archived", "created_at", ("application", CompanyScopedRelatedFilter))
    search_fields = ("emails__email", "phones__phone", "phones__e164", "first_name", "last_name", "username")
    search_help_text = "Start of an email, a phone number, a first or last name or a username; or a customer id."
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # per-filter counts would scan the company's customers
    list_per_page = 50
    paginator = CustomerPaginator  # counts from ApplicationCustomerCount where it can
    inlines = (CustomerEmailInline, CustomerPhoneInline, LinkedIdentityInline)
    actions = ("block_customers", "unblock_customers", "archive_customers", "restore_customers")
    fieldsets = (
        (None, {"fields": ("edit_link", "id", "application", "status", "username", "first_name", "last_name", "gender",
                           "dob", "account_type", "external_id", "rr_id", "profile_pic_url", "meta")}),
        ("State", {"fields": ("active", "archived", "archived_at", "restore_until", "created_at",
                              "updated_at", "version", "audit_trail")}),
        ("Timeline", {"fields": ("timeline",)}),
    )
    readonly_fields = ("edit_link", "id", "application", "status", "username", "first_name", "last_name", "gender", "dob",
                       "account_type", "external_id", "rr_id", "profile_pic_url", "meta", "active", "archived",
                       "archived_at", "restore_until", "created_at", "updated_at", "version", "audit_trail",
                       "timeline")

    # --- queryset and search

    def get_queryset(self, request):
        return with_contacts(super().get_queryset(request))

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        return self.paginator(queryset, per_page, orphans, allow_empty_first_page,
                              counted=lambda: counted_customers(request))

    def get_search_results(self, request, queryset, search_term):
        search_term = search_term.strip()
        if not search_term:
            return queryset, False
        if looks_like_phone(search_term):
            terms = [search_term]  # "+91 98765 43210" is one phone number, not three words
        else:
            terms = []
            for bit in smart_split(search_term):
                if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
                    bit = unescape_string_literal(bit)
                if bit.strip():
                    terms.append(bit.strip())
        for term in terms[:5]:
            queryset = queryset.filter(_prefix_search(term))
        return queryset, False

    # --- permissions: read-only pages (ReadOnlyAdminMixin), writes only through the actions

    def has_manage_permission(self, request):
        """Block / unblock / archive / restore."""
        return request.user.has_perm("users.change_customer")

    # --- columns and read-only fields

    @admin.display(description="emails")
    def emails_display(self, obj):
        return ", ".join(e.email for e in obj.emails.all())

    @admin.display(description="phones")
    def phones_display(self, obj):
        return ", ".join(p.e164 for p in obj.phones.all())

    @admin.display(description="status")
    def status(self, obj):
        return obj.status

    @admin.display(description="audit trail")
    def audit_trail(self, obj):
        url = reverse(f"{self.admin_site.name}:users_auditevent_changelist")
        return format_html('<a href="{}?customer_id={}">Audit events of this customer</a>', url, obj.pk)

    @admin.display(description=f"newest {TIMELINE_SHOWN} events")
    def timeline(self, obj):
        from users.timeline import customer_timeline

        items = customer_timeline(obj, limit=TIMELINE_SHOWN)["timeline"]
        if not items:
            return "-"
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                                ((i["date"], i["title"], i["sub_title"]) for i in items))
        return format_html("<table><tr><th>when</th><th>what</th><th>details</th></tr>{}</table>", rows)

    # --- actions

    def _selected(self, request, queryset):
        """[(application, [customer, ...]), ...] or None (after telling the user) when too many."""
        limit = settings.MAX_BULK_USER_IDS
        customers = list(queryset.order_by().prefetch_related(None).only("id", "application_id", "archived", "active",
                                                  "first_name", "last_name", "username")[: limit + 1])
        if len(customers) > limit:
            self.message_user(request, f"Select at most {limit} customers at once.", level=messages.ERROR)
            return None
        applications = Application.objects.in_bulk({c.application_id for c in customers})
        groups = {}
        for customer in customers:
            groups.setdefault(customer.application_id, []).append(customer)
        return [(applications[app_id], group) for app_id, group in groups.items()]

    def _report(self, request, done: int, verb: str, errors: list[str], skipped: list[str] = (), unchanged: int = 0):
        if done:
            noun = "customer" if done == 1 else "customers"
            self.message_user(request, f"{verb} {done} {noun}.", level=messages.SUCCESS)
        if unchanged:
            self.message_user(request, f"{unchanged} of the selected customers already were {verb.lower()}.",
                              level=messages.INFO)
        if skipped:
            self.message_user(request, f"Skipped {len(skipped)} archived: {', '.join(skipped[:MAX_ERRORS_SHOWN])}"
                              f"{' …' if len(skipped) > MAX_ERRORS_SHOWN else ''} (restore them first).",
                              level=messages.WARNING)
        for message in errors[:MAX_ERRORS_SHOWN]:
            self.message_user(request, message, level=messages.ERROR)
        if len(errors) > MAX_ERRORS_SHOWN:
            self.message_user(request, f"… and {len(errors) - MAX_ERRORS_SHOWN} more errors.", level=messages.ERROR)
        if not done and not errors and not skipped and not unchanged:
            self.message_user(request, "Nothing to do.", level=messages.INFO)

    def _set_active(self, request, queryset, active: bool):
        groups = self._selected(request, queryset)
        if groups is None:
            return
        actor = Actor.from_request(request)
        verb = "Unblocked" if active else "Blocked"
        reason = f"{verb} from the admin console by {request.user.get_username()}"
        done, unchanged, errors, skipped = 0, 0, [], []
        for application, customers in groups:
            skipped += [str(c) for c in customers if c.archived]
            ids = [c.pk for c in customers if not c.archived]
            if not ids:
                continue
            try:
                changed = services.set_customers_active(application, ids, active, reason, actor)
            except ServiceError as exc:
                errors.append(exc.message)
            else:
                done += changed
                unchanged += len(ids) - changed
        self._report(request, done, verb, errors, skipped, unchanged)

    @admin.action(description="Block selected customers", permissions=["manage"])
    def block_customers(self, request, queryset):
        self._set_active(request, queryset, False)

    @admin.action(description="Unblock selected customers", permissions=["manage"])
    def unblock_customers(self, request, queryset):
        self._set_active(request, queryset, True)

    def _each_customer(self, request, queryset, verb: str, apply):
        """Call ``apply(application, customer, actor, reason)`` for every selected customer, one at
        a time (a ServiceError becomes a message naming the customer), then report."""
        groups = self._selected(request, queryset)
        if groups is None:
            return
        actor = Actor.from_request(request)
        reason = f"{verb} from the admin console by {request.user.get_username()}"
        done, errors = 0, []
        for application, customers in groups:
            for customer in customers:
                try:
                    apply(application, customer, actor, reason)
                except ServiceError as exc:
                    errors.append(f"{customer}: {exc.message}")
                else:
                    done += 1
        self._report(request, done, verb, errors)

    @admin.action(description="Archive selected customers", permissions=["manage"])
    def archive_customers(self, request, queryset):
        self._each_customer(request, queryset, "Archived", lambda application, customer, actor, reason:
                            services.archive_customer(application, customer.pk, actor, reason=reason))

    @admin.action(description="Restore selected archived customers", permissions=["manage"])
    def restore_customers(self, request, queryset):
        self._each_customer(request, queryset, "Restored", lambda application, customer, actor, reason:
                            services.restore_customer(application, customer.pk, reason, actor))


class ActorTypeFilter(admin.SimpleListFilter):
    """Fixed choices: the stock filter would scan the whole table for distinct values."""

    title = "actor type"
    parameter_name = "actor_type"

    def lookups(self, request, model_admin):
        return [(AuditEvent.ACTOR_STAFF, "staff"), (AuditEvent.ACTOR_API_CLIENT, "API client"),
                (AuditEvent.ACTOR_SYSTEM, "system")]

    def queryset(self, request, queryset):
        return queryset.filter(actor_type=self.value()) if self.value() else queryset


class CustomerLinkMixin:
    """``customer_link``: the row's customer (``customer_id``), linked to the customer's admin page."""

    @admin.display(description="customer", ordering="customer_id")
    def customer_link(self, obj):
        url = reverse(f"{self.admin_site.name}:users_customer_change", args=[obj.customer_id])
        return format_html('<a href="{}">{}</a>', url, obj.customer_id)


@admin.register(AuditEvent)
class AuditEventAdmin(CustomerLinkMixin, ReadOnlyAdminMixin, CompanyScopedAdminMixin, admin.ModelAdmin):
    """Read-only: services write the trail, nobody edits it."""

    company_field = "application__company"
    list_display = ("created_at", "action", "customer_link", "actor_type", "actor_name", "reason", "application")
    list_select_related = ("application",)
    list_filter = (ActorTypeFilter, "created_at", ("application", CompanyScopedRelatedFilter))
    search_fields = ("=customer_id", "^action", "=request_id")
    search_help_text = "A customer id, the start of an action (customer.blocked) or a request id."
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    fields = ("created_at", "application", "customer_link", "action", "reason", "actor_type", "actor_id",
              "actor_name", "request_id", "data")
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        if is_object_id(term):
            return queryset.filter(customer_id=term), False
        # Exact / prefix lookups that the indexes (or a small scan of the company's rows) serve.
        return queryset.filter(Q(action__startswith=term.lower()) | Q(request_id=term)), False


@admin.register(LinkedIdentity)
class LinkedIdentityAdmin(CustomerLinkMixin, ReadOnlyAdminMixin, CompanyScopedAdminMixin, admin.ModelAdmin):
    """Social sign-in identities (read-only); "Unlink" goes through users.services.unlink_identity (audited):
    that provider account then no longer signs in to the customer."""

    company_field = "application__company"
    list_display = ("provider", "subject", "email", "customer_link", "application", "linked_at")
    list_select_related = ("application",)
    list_filter = ("provider", ("application", CompanyScopedRelatedFilter))
    search_fields = ("=subject", "=email", "=customer__id")
    search_help_text = "A provider subject, an email or a customer id (exact)."
    ordering = ("-linked_at", "-id")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    actions = ("unlink_identities",)
    fields = ("provider", "subject", "email", "customer_link", "application", "linked_at")
    readonly_fields = fields

    def lookup_allowed(self, lookup, value, request=None):
        return lookup == "customer_id" or super().lookup_allowed(lookup, value, request)

    def has_manage_permission(self, request):
        return request.user.has_perm("users.change_customer")

    @admin.action(description="Unlink selected identities", permissions=["manage"])
    def unlink_identities(self, request, queryset):
        actor = Actor.from_request(request)
        done = 0
        for identity in queryset.select_related("application")[: settings.MAX_BULK_USER_IDS]:
            try:
                services.unlink_identity(identity.application, identity.customer_id, identity.provider,
                                         identity.subject, actor)
            except ServiceError as exc:
                self.message_user(request, f"{identity}: {exc.message}", level=messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, f"Unlinked {done} identit{'y' if done == 1 else 'ies'}.",
                              level=messages.SUCCESS)
