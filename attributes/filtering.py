"""filterUsersByAttributes: customers matching attribute conditions, one page, with chosen values.

The body is the SDK's ``UserAttributeFilter``: ``{"query": {"type": "and" | "or", "page", "limit",
"conditions": [{"definition_id", "type", "value"}], "email"?, "phone"?, "definition_ids"?}}``.
Archived customers are never listed. ``email`` / ``phone`` narrow to the customer with that exact
email or phone number. ``definition_ids`` chooses which attribute values come back per customer
(absent: all of them; ``[]``: none).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from attributes import conditions as conditions_module
from attributes.models import AttributeDefinition, UserAttribute
from core.api.errors import ValidationFailed
from core.ids import is_object_id
from core.api.pagination import PageRequest
from users import search
from users.selectors import customers_matching

MAX_DEFINITION_IDS = 100


@dataclass
class FilterQuery:
    combination: str
    conditions: list
    page: PageRequest
    email: str = ""
    phone: str = ""
    definition_ids: list[str] | None = None


def _whole(raw, name: str, low: int, high: int) -> int:
    if isinstance(raw, str) and raw.strip().isdecimal():
        raw = int(raw.strip())
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
        raise ValidationFailed(f"query.{name} must be a whole number from {low} to {high}.")
    return raw


def _text(raw, name: str) -> str:
    if raw is None or raw == "":
        return ""
    if not isinstance(raw, str) or len(raw) > 320 or "\x00" in raw:
        raise ValidationFailed(f"query.{name} must be text of at most 320 characters.")
    return raw.strip()


def parse_query(application, body) -> FilterQuery:
    if not isinstance(body, dict) or not isinstance(body.get("query"), dict):
        raise ValidationFailed("query is required: {\"query\": {\"type\", \"page\", \"limit\", \"conditions\"}}.")
    query = body["query"]
    combination = conditions_module.parse_combination(query.get("type"), "query.type")
    if "conditions" not in query:
        raise ValidationFailed("query.conditions is required (a list, may be empty).")
    parsed = conditions_module.parse_conditions(application, query["conditions"], field="query.conditions")
    page_no = _whole(query.get("page", 1), "page", 1, 1_000_000)
    size = _whole(query.get("limit", 10), "limit", 1, settings.MAX_PAGE_SIZE)
    definition_ids = query.get("definition_ids")
    if definition_ids is not None:
        if (not isinstance(definition_ids, list) or len(definition_ids) > MAX_DEFINITION_IDS
                or not all(isinstance(i, str) and is_object_id(i) for i in definition_ids)):
            raise ValidationFailed(f"query.definition_ids must be a list of at most {MAX_DEFINITION_IDS} "
                                   "attribute definition ids.")
    return FilterQuery(combination, parsed, PageRequest(page_no, size), _text(query.get("email"), "email"),
                       _text(query.get("phone"), "phone"), definition_ids)


def filter_customers(application, query: FilterQuery):
    """Returns (customers, item_total, {customer id: [(attribute, definition)]})."""
    parts = []
    matching = conditions_module.matching_query(query.conditions, query.combination, application.id)
    if matching is not None:
        parts.append(matching)
    for value in (query.email, query.phone):
        if value:
            parts.append(search.exact_contact(value, application.id))
    ids = search.combine(parts, "INTERSECT") if parts else None
    customers, total = customers_matching(application, ids, archived=False, page=query.page)
    return customers, total, values_of(application, [c.id for c in customers], query.definition_ids)


def values_of(application, customer_ids: list[str], definition_ids: list[str] | None) -> dict[str, list]:
    """The customers' attribute values (pinned definitions first), for the chosen definitions."""
    if not customer_ids or definition_ids == []:
        return {}
    queryset = UserAttribute.objects.filter(application=application, customer_id__in=customer_ids)
    if definition_ids is not None:
        queryset = queryset.filter(definition_id__in=definition_ids)
    attributes = list(queryset)
    definitions = {d.id: d for d in AttributeDefinition.objects.filter(
        application=application, id__in={a.definition_id for a in attributes})}
    found: dict[str, list] = {}
    for attribute in sorted(attributes, key=lambda a: (not definitions[a.definition_id].pinned,
                                                       definitions[a.definition_id].pin_order, a.definition_id)):
        found.setdefault(attribute.customer_id, []).append((attribute, definitions[attribute.definition_id]))
    return found
