"""Reads of customers: lists, exact search, single lookups."""

import functools
import json

from django.db import connection
from django.db.models import Prefetch

from core.api.errors import NotFound, ValidationFailed
from core.api.fields import require_object_id
from core.api.pagination import PageRequest
from users import search
from users.models import Customer, CustomerEmail, CustomerPhone

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
    with connection.cursor() as cursor:
        cursor.execute("SELECT total, archived FROM users_applicationcustomercount WHERE application_id = %s",
                       [application.id])
        counts = cursor.fetchone()
    return 0 if counts is None else _total_of(*counts, archived)


def live_customer_total(application) -> int:
    """The application's customers that are not archived, from the trigger-kept counter (no count(*))."""
    return _counted_total(application, False)


def _total_of(total: int | None, archived_total: int | None, archived: bool | None) -> int:
    if total is None:
        return 0
    if archived is None:
        return total
    return archived_total if archived else total - archived_total


# The hot reads below are single raw queries that bring a page of customers with their emails and
# phones (and the total), and build the model instances straight from the rows: at a million
# customers PostgreSQL answers in well under a millisecond, and the querysets, prefetch queries and
# round trips they replace cost more than that (docs/bench.md).


def list_customers(application, *, q: str | None, archived: bool | None, page: PageRequest):
    """Newest first. Returns (customers, item_total)."""
    return customers_matching(application, search.parse_q(q, application.id), archived=archived, page=page)


def customers_matching(application, ids: search.IdQuery | None, *, archived: bool | None, page: PageRequest,
                       item_total: int | None = None):
    """One page of the customers that ``ids`` selects (every customer when None), newest first, with
    their emails and phones. Returns (customers, item_total). A caller that already knows the number of
    matches (a maintained counter) passes it as ``item_total``: the page is then read without counting
    every match, which lets a page of a million matches stop after a few index entries."""
    if ids is None:
        newest = f"SELECT id, created_at FROM {search.CUSTOMERS} WHERE application_id = %s AND archived = %s {search.ORDER}"
        if archived is None:  # both halves of customer_list_idx, merged (one index scan cannot order them)
            end = page.offset + page.size
            sql = f"SELECT id FROM (({newest} LIMIT %s) UNION ALL ({newest} LIMIT %s)) AS newest {search.ORDER} "
            params = [application.id, False, end, application.id, True, end]
        else:
            sql, params = newest + " ", [application.id, archived]
        counted = "(SELECT {} FROM users_applicationcustomercount WHERE application_id = %s)"
        customers, extra = _fetch_customers(
            sql + "LIMIT %s OFFSET %s", [*params, page.size, page.offset],
            extra=[counted.format("total"), counted.format("archived")], extra_params=[application.id] * 2,
        )
        total = _total_of(*extra[0], archived) if customers else _counted_total(application, archived)
    elif item_total is not None:
        sql, params = search.page_sql(ids, application.id, archived, limit=page.size, offset=page.offset,
                                      with_total=False)
        customers, total = _fetch_customers(sql, params)[0], item_total
    else:
        sql, params = search.page_sql(ids, application.id, archived, limit=page.size, offset=page.offset)
        customers, extra = _fetch_customers(sql, params, extra=["page.total"])
        if customers:
            total = extra[0][0]
        elif page.offset == 0:
            total = 0
        else:  # past the last page: nothing carried the total
            with connection.cursor() as cursor:
                cursor.execute(*search.count_sql(ids, application.id, archived))
                total = cursor.fetchone()[0]
    return customers, total


def customers_by_sql(sql: str, params: list) -> list[Customer]:
    """The customers whose ids ``sql`` selects (column ``id``), newest first, with their emails and phones."""
    return _fetch_customers(sql, params)[0]


def search_customers(application, values: list[str], limit: int) -> list[Customer]:
    """Exact email / phone matches among live (non-archived) customers."""
    ids = search.combine([search.exact_contact(v, application.id) for v in values if v.strip()], "UNION")
    sql, params = search.page_sql(ids, application.id, False, limit=limit, with_total=False)
    return _fetch_customers(sql, params)[0]


def _contact_columns(model, wanted: list[str]):
    """The contact fields presenters read, in model field order (the others stay deferred). Unsorted: a
    customer has a few, sorted in Python (an ORDER BY in each json_agg doubled PostgreSQL's planning time)."""
    fields = [f for f in model._meta.concrete_fields if f.attname in wanted]
    assert len(fields) == len(wanted), f"{model.__name__} lost a field of {wanted}"
    columns = ", ".join(f'x."{f.column}"' for f in fields)
    sql = (f"(SELECT json_agg(json_build_array({columns})) "
           f"FROM {model._meta.db_table} x WHERE x.customer_id = c.id)::text")
    names = [f.attname for f in fields]
    return model, names, sql, (names.index("primary"), names.index("id"))


_CUSTOMER_FIELDS = [f.attname for f in Customer._meta.concrete_fields]
_CUSTOMER_COLUMNS = ", ".join(f'c."{f.column}"' for f in Customer._meta.concrete_fields)
_CUSTOMER_CONVERTERS = [(i, f) for i, f in enumerate(Customer._meta.concrete_fields) if hasattr(f, "from_db_value")]
_CONTACTS = {
    "emails": _contact_columns(CustomerEmail, ["id", "customer_id", "application_id", "email", "primary", "verified",
                                               "active", "is_live"]),
    "phones": _contact_columns(CustomerPhone, ["id", "customer_id", "application_id", "phone", "country_code", "e164",
                                               "primary", "verified", "active", "is_live"]),
}
_CUSTOMER_AND_CONTACTS = ", ".join([_CUSTOMER_COLUMNS, *(sql for _, _, sql, _ in _CONTACTS.values())])


def _customer_from_row(row) -> Customer:
    values = list(row)
    for index, field in _CUSTOMER_CONVERTERS:
        values[index] = field.from_db_value(values[index], None, connection)
    return Customer.from_db(connection.alias, _CUSTOMER_FIELDS, values)


def _fetch_customers(page_sql: str, params: list, *, extra: list[str] = (), extra_params: list = ()):
    """The customers whose ids ``page_sql`` selects (column ``id``), newest first, with their emails and
    phones as with_contacts() would prefetch them; and per customer the values of the ``extra`` columns."""
    columns = ", ".join([*extra, _CUSTOMER_AND_CONTACTS])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM ({page_sql}) AS page JOIN {search.CUSTOMERS} c ON c.id = page.id "
                       "ORDER BY c.created_at DESC, c.id DESC", [*extra_params, *params])
        rows = cursor.fetchall()
    return _customers_of_rows(rows, len(extra))


def _fetch_one(where_sql: str, params: list, extra: list[str] = ()) -> tuple[Customer | None, tuple]:
    """The customer ``where_sql`` (about ``c``, the customers table) selects, as _fetch_customers builds
    it, and its ``extra`` values. A WHERE, not _fetch_customers' join: PostgreSQL plans it in a third of
    the time, and the storefront reads a customer on every request."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join([*extra, _CUSTOMER_AND_CONTACTS])} FROM {search.CUSTOMERS} c "
                       f"WHERE {where_sql}", params)
        rows = cursor.fetchall()
    customers, extras = _customers_of_rows(rows, len(extra))
    return (customers[0], tuple(extras[0])) if customers else (None, tuple(None for _ in extra))


def _customers_of_rows(rows, extra: int) -> tuple[list[Customer], list[tuple]]:
    alias, width = connection.alias, len(_CUSTOMER_FIELDS)
    orderings = _contact_orderings()
    customers, extras = [], []
    for row in rows:
        customer = _customer_from_row(row[extra:extra + width])
        customer._prefetched_objects_cache = {}
        for (name, (model, names, _, (primary, id_))), raw in zip(_CONTACTS.items(), row[extra + width:]):
            values = sorted(json.loads(raw or "[]"), key=lambda v: (not v[primary], v[id_]))
            contacts = [model.from_db(alias, names, value) for value in values]
            _cache_contacts(customer, name, model, contacts, orderings[name])
        customers.append(customer)
        extras.append(row[:extra])
    return customers, extras


@functools.cache
def _contact_orderings() -> dict:
    """One ordered queryset per relation, shared by all customers as a Prefetch lookup's is (never evaluated:
    each customer's is a filtered copy)."""
    return {name: model.objects.order_by("-primary", "id") for name, (model, _, _, _) in _CONTACTS.items()}


def customer_with_contacts(application_id: str, customer_id: str) -> Customer | None:
    """One customer with emails and phones in a single query (the storefront reads it on every request)."""
    return _fetch_one("c.application_id = %s AND c.id = %s", [application_id, customer_id])[0]


def _cache_contacts(customer: Customer, name: str, model, contacts: list, ordering) -> None:
    """Cache contacts on the customer exactly as prefetch_related does (``customer.emails.all()``
    then answers from memory, and each contact knows its customer)."""
    for contact in contacts:
        model.customer.field.set_cached_value(contact, customer)
    queryset = getattr(customer, name)._apply_rel_filters(ordering)
    queryset._result_cache = contacts
    queryset._prefetch_done = True
    customer._prefetched_objects_cache[name] = queryset


def get_customer(application, user_id, *, field: str = "user_id", include_archived: bool = True,
                 lock: bool = False) -> Customer:
    """The customer of the application (row-locked with ``lock``); 400 for a malformed id, 404 if unknown.

    Plain SQL: nearly every write looks its customer up first, and the ORM's query compilation showed in
    profiles."""
    require_object_id(user_id, field)
    sql = f"SELECT {_CUSTOMER_COLUMNS} FROM {search.CUSTOMERS} c WHERE c.application_id = %s AND c.id = %s"
    if not include_archived:
        sql += " AND NOT c.archived"
    if lock:
        sql += " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(sql, [application.id, user_id])
        row = cursor.fetchone()
    if row is None:
        raise NotFound(f"No customer {user_id} in this application.", code="user_not_found")
    return _customer_from_row(row)


def _by_contact_sql(application, email: str | None, phone) -> tuple[str, list]:
    """The customer id of a live email or phone (unique among live customers: at most one row)."""
    if email:
        return (f"SELECT customer_id FROM {search.EMAILS} WHERE application_id = %s AND email = %s "
                "AND is_live", [application.id, email])
    return (f"SELECT customer_id FROM {search.PHONES} WHERE application_id = %s AND e164 = %s AND is_live",
            [application.id, phone.e164])


def customer_id_by_contact(application, *, email: str | None = None, phone=None) -> str | None:
    """The live (not archived) customer whose email (normalised) or phone (a contacts.Phone) this is, blocked
    or not; None when nobody of the application has it. Emails and phones are unique among live customers."""
    sql, params = _by_contact_sql(application, email, phone)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


def customer_by_contact(application, *, email: str | None = None, phone=None) -> Customer | None:
    """customer_id_by_contact's customer, with its emails and phones, in one query (sign-in by a code)."""
    return customer_and_extras_by_contact(application, email=email, phone=phone)[0]


def customer_and_extras(application_id: str, customer_id: str, extra: list[str]) -> tuple[Customer | None, tuple]:
    """customer_with_contacts, and the values of ``extra`` SQL expressions as customer_and_extras_by_contact."""
    return _fetch_one("c.application_id = %s AND c.id = %s", [application_id, customer_id], list(extra))


def customer_and_extras_by_contact(application, *, email: str | None = None, phone=None,
                                   extra: list[str] = ()) -> tuple[Customer | None, tuple]:
    """customer_by_contact, and the values of ``extra`` SQL expressions computed per customer (``c`` is the
    customers table) in the same query: a higher layer reads its own rows of the customer with it."""
    sql, params = _by_contact_sql(application, email, phone)
    return _fetch_one(f"c.id = ({sql})", params, list(extra))


# ----------------------------------------------------------------------------- social sign-in identities

def identities_of(customer) -> list:
    """The customer's linked social sign-in identities (users.models.LinkedIdentity), oldest first."""
    from users.models import LinkedIdentity

    return list(LinkedIdentity.objects.filter(customer_id=customer.pk).order_by("linked_at", "id"))


def customer_by_identity(application_id: str, provider: str, subject: str) -> Customer | None:
    """The customer the provider's subject is linked to in this application (archived or not), with its
    emails and phones, in one query (every social sign-in asks), or None."""
    from users.models import LinkedIdentity

    return _fetch_one(f"c.id = (SELECT customer_id FROM {LinkedIdentity._meta.db_table} "
                      "WHERE application_id = %s AND provider = %s AND subject = %s)",
                      [application_id, provider, subject])[0]
