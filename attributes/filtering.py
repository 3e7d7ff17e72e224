"""filterUsersByAttributes: customers matching attribute conditions, one page, with chosen values.

The body is the SDK's ``UserAttributeFilter``: ``{"query": {"type": "and" | "or", "page", "limit",
"conditions": [{"definition_id", "type", "value"}], "email"?, "phone"?, "definition_ids"?}}``.
Archived customers are never listed. ``email`` / ``phone`` narrow to the customer with that exact
email or phone number. ``definition_ids`` chooses which attribute values come back per customer
(absent: all of them; ``[]``: none).
"""

from __future__ import annotations

from dataclasses import dataclass

from attributes import conditions as conditions_module
from attributes import matching
from attributes.models import UserAttribute
from core.api.pagination import PageRequest
from users import search
from users.selectors import customers_matching


@dataclass
class FilterQuery:
    combination: str
    conditions: list
    page: PageRequest
    email: str = ""
    phone: str = ""
    definition_ids: list[str] | None = None


def filter_query(application, data: dict) -> FilterQuery:
    """The query of a validated body (serializers.FilterUsersSerializer), its combination and conditions
    checked against the application's definitions."""
    query = data["query"]
    combination = conditions_module.parse_combination(query.get("type"), "query.type")
    parsed = conditions_module.parse_conditions(application, query["conditions"], field="query.conditions")
    return FilterQuery(combination, parsed, PageRequest(query["page"], query["limit"]),
                       query.get("email") or "", query.get("phone") or "",
                       query.get("definition_ids"))


def filter_customers(application, query: FilterQuery):
    """Returns (customers, item_total, {customer id: [(attribute, definition)]}); item_total is exact up to
    about ATTRIBUTE_FILTER_EXACT_TOTAL matches (attributes.matching)."""
    narrow = tuple(search.exact_contact(value, application.id) for value in (query.email, query.phone) if value)
    if query.conditions:
        customers, total = matching.matching_page(
            application, matching.Selection(tuple(query.conditions), query.combination, narrow=narrow), query.page)
    else:
        ids = search.combine(list(narrow), "INTERSECT") if narrow else None
        customers, total = customers_matching(application, ids, archived=False, page=query.page)
    return customers, total, values_of(application, [c.id for c in customers], query.definition_ids)


def values_of(application, customer_ids: list[str], definition_ids: list[str] | None) -> dict[str, list]:
    """The customers' attribute values (pinned definitions first), for the chosen definitions."""
    if not customer_ids or definition_ids == []:
        return {}
    queryset = UserAttribute.objects.filter(application=application, customer_id__in=customer_ids)
    if definition_ids is not None:
        queryset = queryset.filter(definition_id__in=definition_ids)
    attributes = list(queryset.select_related("definition"))  # one read: a definition deleted meanwhile is not half seen
    found: dict[str, list] = {}
    for attribute in sorted(attributes, key=lambda a: (not a.definition.pinned, a.definition.pin_order,
                                                       a.definition_id)):
        found.setdefault(attribute.customer_id, []).append((attribute, attribute.definition))
    return found
