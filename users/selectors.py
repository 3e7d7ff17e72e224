"""Reads of customers: lists, exact search, single lookups."""

from django.db.models import Prefetch
from django.db.models.expressions import RawSQL

from core.errors import NotFound, ValidationFailed
from core.ids import is_object_id
from core.pagination import PageRequest
from users import search
from users.models import ApplicationCustomerCount, Customer, CustomerEmail, CustomerPhone

ARCHIVED_CHOICES = {"false": False, "true": True, "all": None}


def with_contacts(queryset):
    return queryset.prefetch_related(
        Prefetch("emails", queryset=CustomerEmail.objects.order_by("-primary", "id")),
        Prefetch("phones", queryset=CustomerPhone.objects.order_by("-primary", "id")),
    )


def parse_archived(raw: str | None) -> bool | None:
    value = (raw or "false").strip().lower()
    if value not in ARCHIVED_CHOICES:
        raise ValidationFailed("archived must be one of false (default), true or all.")
    return ARCHIVED_CHOICES[value]


def _counted_total(application, archived: bool | None) -> int:
    counts = ApplicationCustomerCount.objects.filter(application=application).first()
    if counts is None:
        return 0
    if archived is None:
        return counts.total
    return counts.archived if archived else counts.total - counts.archived


def list_customers(application, *, q: str | None, archived: bool | None, page: PageRequest):
    """Newest first. Returns (customers, item_total)."""
    queryset = Customer.objects.filter(application=application)
    if archived is not None:
        queryset = queryset.filter(archived=archived)
    ids = search.parse_q(q, application.id)
    if ids is None:
        total = _counted_total(application, archived)
    else:
        queryset = queryset.filter(id__in=RawSQL(ids.sql, ids.params))
        total = queryset.count()
    rows = with_contacts(queryset.order_by("-created_at", "-id"))[page.offset : page.offset + page.size]
    return list(rows), total


def search_customers(application, values: list[str], limit: int) -> list[Customer]:
    """Exact email / phone matches among live (non-archived) customers."""
    ids = search.combine([search.exact_contact(v, application.id) for v in values if v.strip()], "UNION")
    queryset = Customer.objects.filter(application=application, archived=False,
                                       id__in=RawSQL(ids.sql, ids.params))
    return list(with_contacts(queryset.order_by("-created_at", "-id"))[:limit])


def get_customer(application, user_id, *, field: str = "user_id", include_archived: bool = True,
                 lock: bool = False) -> Customer:
    if not is_object_id(user_id):
        raise ValidationFailed(f"{field} must be 24 lowercase hexadecimal characters, got {str(user_id)[:40]!r}.")
    queryset = Customer.objects.filter(application=application, id=user_id)
    if not include_archived:
        queryset = queryset.filter(archived=False)
    if lock:
        queryset = queryset.select_for_update()
    customer = queryset.first()
    if customer is None:
        raise NotFound(f"No customer {user_id} in this application.", code="user_not_found")
    return customer
