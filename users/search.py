"""Turns the `q` of customers/list and searchUsers into SQL that selects customer ids.

Every condition compiles to ``SELECT <customer id> FROM … WHERE <indexed test> AND application_id = %s``;
``$or`` becomes UNION and ``$and`` INTERSECT, so each part is an index scan even at a million
customers. Plain fragments match by prefix (email, phone, first name, last name, username).

:func:`page_sql` and :func:`count_sql` turn such a query into one page of matching customers (newest
first, with the number of all matches). A condition on ``users_customer`` itself yields the
``created_at`` and ``archived`` it needs straight from its covering index (users/migrations/0003), so
only customers found through an email or a phone are looked up again, and only those that no other
part of a ``$or`` has found already: a name fragment matching ten thousand customers stays an
index-only affair.
"""

import json
from dataclasses import dataclass, field

from core.api.errors import ValidationFailed
from core.api.fields import refuse_nul
from users.contacts import looks_like_phone, parse_phone, split_calling_code
from users.models import Customer, CustomerEmail, CustomerPhone

CUSTOMERS = Customer._meta.db_table
EMAILS = CustomerEmail._meta.db_table
PHONES = CustomerPhone._meta.db_table

MAX_Q_LENGTH = 500
MAX_CONDITIONS = 20


@dataclass
class IdQuery:
    sql: str
    params: list = field(default_factory=list)
    # How the query was built (read by page_sql): ``where`` for a condition on users_customer itself,
    # ``parts`` and ``operator`` for a combination; neither for the ids found through emails / phones.
    where: str | None = None
    parts: tuple = ()
    operator: str = ""


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _email_sql(op: str, value: str, app_id: str) -> IdQuery:
    return IdQuery(f"SELECT customer_id FROM {EMAILS} WHERE email {op} %s AND application_id = %s",
                   [value, app_id])


def _phone_prefix(digits: str, app_id: str) -> IdQuery:
    return IdQuery(f"SELECT customer_id FROM {PHONES} WHERE phone LIKE %s AND application_id = %s",
                   [_like_prefix(digits), app_id])


def _international_phone_prefix(digits: str, app_id: str) -> IdQuery | None:
    """"+91 98765": a country calling code, then the start of the national number (stored without it)."""
    split = split_calling_code(digits)
    if split is None:
        return None
    code, national_start = split
    return IdQuery(f"SELECT customer_id FROM {PHONES} WHERE phone LIKE %s AND country_code = %s "
                   "AND application_id = %s", [_like_prefix(national_start), code, app_id])


def _phone_exact(raw: str, app_id: str) -> IdQuery | None:
    try:
        phone = parse_phone(raw)
    except ValidationFailed:
        return None
    return IdQuery(
        f"SELECT customer_id FROM {PHONES} WHERE phone = %s AND country_code = %s AND application_id = %s",
        [phone.national, phone.country_code, app_id],
    )


def _customer_condition(condition: str, value, app_id: str) -> IdQuery:
    where = f"{condition} AND application_id = %s"
    return IdQuery(f"SELECT id FROM {CUSTOMERS} WHERE {where}", [value, app_id], where=where)


def _column_prefix(column: str, text: str, app_id: str) -> IdQuery:
    return _customer_condition(f"lower({column}) LIKE %s", _like_prefix(text.lower()), app_id)


def _column_equals(column: str, value: str, app_id: str, *, lower: bool = False) -> IdQuery:
    target = f"lower({column})" if lower else column
    return _customer_condition(f"{target} = %s", value.lower() if lower else value, app_id)


NOTHING = IdQuery("SELECT NULL::varchar WHERE false")


def combine(parts: list[IdQuery], operator: str) -> IdQuery:
    parts = [p for p in parts if p is not None]
    if not parts:
        return NOTHING
    if len(parts) == 1:
        return parts[0]
    return IdQuery(f" {operator} ".join(f"({p.sql})" for p in parts), [x for p in parts for x in p.params],
                   parts=tuple(parts), operator=operator)


def exact_contact(value: str, app_id: str) -> IdQuery:
    """searchUsers: an exact email or phone number."""
    value = refuse_nul(value.strip(), "search values")
    if "@" in value:
        return _email_sql("=", value.lower(), app_id)
    if looks_like_phone(value):
        return _phone_exact(value, app_id) or NOTHING
    raise ValidationFailed(f"{value[:60]!r} is neither an email address nor a phone number.")


def fragment(text: str, app_id: str) -> IdQuery:
    """A plain fragment of an email, phone or name: prefix matches (case-insensitive)."""
    text = text.strip()
    if "@" in text:
        return _email_sql("LIKE", _like_prefix(text.lower()), app_id)
    if looks_like_phone(text):
        digits = "".join(ch for ch in text if ch.isdigit())
        if text.startswith("+"):
            return combine([_international_phone_prefix(digits, app_id), _phone_exact(text, app_id)], "UNION")
        return combine([_phone_prefix(digits, app_id), _phone_exact(text, app_id)], "UNION")
    words = text.split()
    if len(words) >= 2:  # "first last"
        return combine([_column_prefix("first_name", words[0], app_id),
                        _column_prefix("last_name", " ".join(words[1:]), app_id)], "INTERSECT")
    return combine(
        [
            _column_prefix("first_name", text, app_id),
            _column_prefix("last_name", text, app_id),
            _column_prefix("username", text, app_id),
            _email_sql("LIKE", _like_prefix(text.lower()), app_id),
        ],
        "UNION",
    )


# Mongo-style field names (as the Fynd console sends them) → how to match an exact value.
def _field_condition(name: str, value, app_id: str) -> IdQuery:
    if isinstance(value, dict):
        if set(value) != {"$in"} or not isinstance(value["$in"], list):
            raise ValidationFailed(f"q: only a string or {{\"$in\": [...]}} may be matched against {name!r}.")
        if len(value["$in"]) > MAX_CONDITIONS:
            raise ValidationFailed(f"q: $in takes at most {MAX_CONDITIONS} values.")
        return combine([_field_condition(name, v, app_id) for v in value["$in"]], "UNION")
    if not isinstance(value, str):
        raise ValidationFailed(f"q: the value for {name!r} must be a string.")
    refuse_nul(value, f"q: the value for {name!r}")
    if name in ("emails.email", "email"):
        return _email_sql("=", value.strip().lower(), app_id)
    if name in ("phoneNumbers.phone", "phone_numbers.phone", "phone"):
        return _phone_exact(value, app_id) if looks_like_phone(value) else NOTHING
    if name in ("first_name", "last_name", "username"):
        return _column_equals(name, value, app_id, lower=True)
    if name in ("_id", "user_id", "id"):
        return _column_equals("id", value, app_id)
    if name in ("external_id", "rr_id"):
        return _column_equals(name, value, app_id)
    raise ValidationFailed(
        f"q: unknown field {name!r}; use emails.email, phoneNumbers.phone, first_name, last_name, "
        "username, _id, external_id or rr_id."
    )


def _document(doc, app_id: str, depth: int = 0) -> IdQuery:
    if depth > 3:
        raise ValidationFailed("q: the filter is nested too deeply.")
    if not isinstance(doc, dict) or not doc:
        raise ValidationFailed("q: each filter must be a non-empty JSON object.")
    parts = []
    for key, value in doc.items():
        if key in ("$or", "$and"):
            if not isinstance(value, list) or not value:
                raise ValidationFailed(f"q: {key} takes a non-empty list of filters.")
            if len(value) > MAX_CONDITIONS:
                raise ValidationFailed(f"q: {key} takes at most {MAX_CONDITIONS} filters.")
            inner = [_document(item, app_id, depth + 1) for item in value]
            parts.append(combine(inner, "UNION" if key == "$or" else "INTERSECT"))
        elif key.startswith("$"):
            raise ValidationFailed(f"q: unsupported operator {key!r}; use $or, $and or $in.")
        else:
            parts.append(_field_condition(key, value, app_id))
    return combine(parts, "INTERSECT")


def parse_q(q: str | None, app_id: str) -> IdQuery | None:
    """None when there is nothing to filter by."""
    if q is None or not q.strip():
        return None
    if len(q) > MAX_Q_LENGTH:
        raise ValidationFailed(f"q must be at most {MAX_Q_LENGTH} characters.")
    refuse_nul(q, "q")
    if q.lstrip().startswith("{"):
        try:
            doc = json.loads(q)
        except json.JSONDecodeError as exc:
            raise ValidationFailed(f"q looks like a JSON filter but is not valid JSON ({exc.msg}).")
        return _document(doc, app_id)
    return fragment(q, app_id)


# --------------------------------------------------------------------------- pages of matches

ORDER = "ORDER BY created_at DESC, id DESC"  # newest first, as every customer list


def page_sql(query: IdQuery, app_id: str, archived: bool | None, *, limit: int, offset: int = 0,
             with_total: bool = True) -> tuple[str, list]:
    """SQL for one page of the matching customers' ids, newest first; with ``with_total`` each row also
    carries the number of all matches (so a page past the end needs :func:`count_sql`)."""
    head, head_params, rows, params = _matches(query, app_id, archived)
    total = ", count(*) OVER () AS total" if with_total else ""
    return (f"{head}SELECT id{total} FROM ({rows}) AS matches {ORDER} LIMIT %s OFFSET %s",
            [*head_params, *params, limit, offset])


def count_sql(query: IdQuery, app_id: str, archived: bool | None) -> tuple[str, list]:
    head, head_params, rows, params = _matches(query, app_id, archived)
    return f"{head}SELECT count(*) FROM ({rows}) AS matches", [*head_params, *params]


def _matches(query: IdQuery, app_id: str, archived: bool | None) -> tuple[str, list, str, list]:
    ctes: list[tuple[str, str, list]] = []
    rows, params = _rows(query, app_id, archived, ctes)
    if not ctes:
        return "", [], rows, params
    head = "WITH " + ", ".join(f"{name} AS MATERIALIZED ({sql})" for name, sql, _ in ctes) + " "
    return head, [x for _, _, cte_params in ctes for x in cte_params], rows, params


def _rows(query: IdQuery, app_id: str, archived: bool | None, ctes: list) -> tuple[str, list]:
    """SQL selecting ``id, created_at`` of each matching customer of the application once (distinct ids)."""
    archived_sql, archived_params = ("", []) if archived is None else (" AND archived = %s", [archived])
    if query.where is not None:  # a condition on users_customer: answered by its (covering) index
        return (f"SELECT id, created_at FROM {CUSTOMERS} WHERE {query.where}{archived_sql}",
                [*query.params, *archived_params])
    if query.operator == "INTERSECT":  # (id, created_at) pairs intersect exactly as the ids do
        parts = [_rows(p, app_id, archived, ctes) for p in query.parts]
        return " INTERSECT ".join(f"({sql})" for sql, _ in parts), [x for _, ps in parts for x in ps]
    if query.operator == "UNION":
        direct = [p for p in query.parts if p.where is not None or p.parts]
        found_via_contacts = [p for p in query.parts if p.where is None and not p.parts]
        if direct:
            parts = [_rows(p, app_id, archived, ctes) for p in direct]
            direct_sql = " UNION ".join(f"({sql})" for sql, _ in parts)
            direct_params = [x for _, ps in parts for x in ps]
            if not found_via_contacts:
                return direct_sql, direct_params
            name = f"found_{len(ctes) + 1}"
            ctes.append((name, direct_sql, direct_params))
            contacts_sql = " UNION ALL ".join(f"({p.sql})" for p in found_via_contacts)
            return (
                f"SELECT id, created_at FROM {name} UNION ALL SELECT id, created_at FROM {CUSTOMERS} "
                f"WHERE application_id = %s{archived_sql} AND id IN (SELECT contact.id FROM ({contacts_sql}) "
                f"AS contact (id) WHERE NOT EXISTS (SELECT FROM {name} WHERE {name}.id = contact.id))",
                [app_id, *archived_params, *[x for p in found_via_contacts for x in p.params]],
            )
    # ids found through emails / phones (or NOTHING): look the customers up
    return (f"SELECT id, created_at FROM {CUSTOMERS} WHERE application_id = %s{archived_sql} "
            f"AND id IN ({query.sql})", [app_id, *archived_params, *query.params])
