"""Conditions on customer attributes, compiled to SQL that selects customer ids.

Used by filterUsersByAttributes and by condition-based customer groups. A condition names a
definition of the application, an operator and an operand; it compiles to a ``users.search.IdQuery``
over the typed index (``attributes_userattributevalue``, one row per element, B-tree indexes led by
the definition), so ``and`` / ``or`` combine as INTERSECT / UNION exactly like the ``q`` of the
customer list, and one page of matches with its total is ``users.search.page_sql``.

Operators (docs/attributes.md has the table):

* ``eq`` / ``is``, ``ne`` / ``nis``: equality (exact, case-sensitive for strings);
* ``gt lt gte lte``: numbers, dates, datetimes; ``btw``: between two of those, both ends included;
* ``cnt nct sw ew``: strings, case-insensitive contains / does not contain / starts / ends with;
* ``in`` / ``nin``: one of a list (at most ``MAX_LIST``).

A multi-value attribute matches a positive operator when any of its elements does. Negative operators
(``ne nis nct nin``) match the customers none of whose elements matches the positive form, customers
without any value included (as MongoDB's ``$ne`` / ``$nin``). Encrypted and json attributes are stored
as keyed digests only: equality operators (``eq is ne nis in nin``) only.

Operands arrive as JSON (the filter API: ``10``, ``["a", "b"]``) or as text (a group condition's
``value`` is a string: ``"10"``, ``"a,b"`` or ``'["a","b"]'``); both are parsed with the definition's
type (``attributes.types``), so ``"10"`` compares as a number on a number attribute.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from attributes import selectors, types
from attributes.models import AttributeDefinition, UserAttributeValue
from core.api.errors import ValidationFailed
from core.ids import is_object_id
from users import search

MAX_CONDITIONS = 20
MAX_LIST = 1000

EQUALITY = {"eq": "eq", "is": "eq", "ne": "eq", "nis": "eq", "in": "in", "nin": "in"}
ORDERING = {"gt": ">", "lt": "<", "gte": ">=", "lte": "<="}
TEXT_MATCH = {"cnt": "cnt", "nct": "cnt", "sw": "sw", "ew": "ew"}
NEGATIVE = {"ne", "nis", "nct", "nin"}
OPERATORS = (*EQUALITY, *ORDERING, "btw", *TEXT_MATCH)
COMBINATIONS = {"and": "INTERSECT", "or": "UNION"}

_COLUMN = {"string": "text_value", "number": "number_value", "boolean": "bool_value", "date": "time_value",
           "datetime": "time_value"}
_ORDERED_TYPES = ("number", "date", "datetime")
_VALUES_TABLE = UserAttributeValue._meta.db_table


@dataclass(frozen=True)
class Condition:
    definition: AttributeDefinition
    operator: str
    operand: object  # a canonical element, a (low, high) pair for btw, a tuple of elements for in / nin


def allowed_operators(definition: AttributeDefinition) -> tuple[str, ...]:
    if definition.encrypted or definition.type == "json":
        return tuple(EQUALITY)
    if definition.type == "boolean":
        return ("eq", "is", "ne", "nis")
    if definition.type == "string":
        return (*EQUALITY, *TEXT_MATCH)
    return (*EQUALITY, *ORDERING, "btw")


def _element(definition: AttributeDefinition, raw, where: str):
    try:
        if isinstance(raw, str) and definition.type != "string":
            return types.coerce_text(definition.type, raw)
        return types.parse_element(definition.type, raw)
    except types.ValueInvalid as exc:
        raise ValidationFailed(f"{where}: the value for {definition.slug} {exc.message}", code="invalid_condition")


def _as_list(raw, where: str) -> list:
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("["):
            try:
                raw = json.loads(text)
            except ValueError:
                raise ValidationFailed(f"{where}: value is not a JSON list.", code="invalid_condition")
        else:
            raw = [part.strip() for part in text.split(",")] if text else []
    if not isinstance(raw, list):
        raise ValidationFailed(f"{where}: value must be a list (or comma-separated text).", code="invalid_condition")
    return raw


def _operand(definition: AttributeDefinition, operator: str, raw, where: str):
    if operator in ("in", "nin"):
        items = _as_list(raw, where)
        if not items or len(items) > MAX_LIST:
            raise ValidationFailed(f"{where}: {operator} needs 1 to {MAX_LIST} values.", code="invalid_condition")
        return tuple(_element(definition, item, f"{where}.value[{i}]") for i, item in enumerate(items))
    if operator == "btw":
        items = _as_list(raw, where)
        if len(items) != 2:
            raise ValidationFailed(f"{where}: btw needs exactly two values, [from, to].", code="invalid_condition")
        low, high = (_element(definition, item, f"{where}.value[{i}]") for i, item in enumerate(items))
        if _sortable(definition, low) > _sortable(definition, high):
            raise ValidationFailed(f"{where}: btw needs the smaller value first.", code="invalid_condition")
        return low, high
    if operator in TEXT_MATCH:
        if not isinstance(raw, str) or not raw:
            raise ValidationFailed(f"{where}: {operator} needs a non-empty text.", code="invalid_condition")
        if "\x00" in raw or len(raw) > types.MAX_TEXT_LENGTH:
            raise ValidationFailed(f"{where}: the text is too long or holds NUL characters.", code="invalid_condition")
        return raw
    if isinstance(raw, list):
        raise ValidationFailed(f"{where}: {operator} compares with one value, not a list.", code="invalid_condition")
    return _element(definition, raw, where)


def _sortable(definition: AttributeDefinition, element):
    return types.to_datetime(definition.type, element) if definition.type in ("date", "datetime") else element


def parse_conditions(application, raw_conditions, *, definition_key: str = "definition_id",
                     field: str = "conditions") -> list[Condition]:
    """Validated conditions of the application; 400 naming the condition for anything wrong."""
    if not isinstance(raw_conditions, list):
        raise ValidationFailed(f"{field} must be a list.", code="invalid_condition")
    if len(raw_conditions) > MAX_CONDITIONS:
        raise ValidationFailed(f"{field}: at most {MAX_CONDITIONS} conditions.", code="invalid_condition")
    for i, raw in enumerate(raw_conditions):
        if not isinstance(raw, dict):
            raise ValidationFailed(f"{field}[{i}] must be an object.", code="invalid_condition")
        definition_id = raw.get(definition_key)
        if not isinstance(definition_id, str) or not is_object_id(definition_id):
            raise ValidationFailed(f"{field}[{i}].{definition_key} must be the 24-hex id of an attribute definition.",
                                   code="invalid_condition")
    definitions = selectors.definitions_by_id(application, [raw[definition_key] for raw in raw_conditions])
    conditions = []
    for i, raw in enumerate(raw_conditions):
        where = f"{field}[{i}]"
        definition = definitions.get(raw[definition_key])
        if definition is None:
            raise ValidationFailed(f"{where}.{definition_key}: no attribute definition {raw[definition_key]} in this "
                                   "application.", code="unknown_definition")
        operator = raw.get("type")
        if operator not in OPERATORS:
            raise ValidationFailed(f"{where}.type must be one of {', '.join(OPERATORS)}.", code="invalid_condition")
        if operator not in allowed_operators(definition):
            kind = "encrypted" if definition.encrypted else definition.type
            raise ValidationFailed(f"{where}: operator {operator} does not apply to {definition.slug} ({kind}); "
                                   f"use one of {', '.join(allowed_operators(definition))}.", code="invalid_condition")
        if "value" not in raw:
            raise ValidationFailed(f"{where}.value is required.", code="invalid_condition")
        conditions.append(Condition(definition, operator, _operand(definition, operator, raw["value"], where)))
    return conditions


def _like(text: str, operator: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return {"cnt": f"%{escaped}%", "sw": f"{escaped}%", "ew": f"%{escaped}"}[operator]


def _predicate(condition: Condition) -> tuple[str, list]:
    """The test on one index row for the positive form of the condition."""
    definition, operator, operand = condition.definition, condition.operator, condition.operand
    if definition.encrypted or definition.type == "json":
        elements = operand if EQUALITY[operator] == "in" else (operand,)
        digests = [d for element in elements for d in types.digest_candidates(element)]
        return "digest = ANY(%s)", [digests]
    if operator in TEXT_MATCH:
        return "text_lower LIKE %s", [_like(operand, TEXT_MATCH[operator])]
    column = _COLUMN[definition.type]

    def db(element):
        return types.index_fields(definition.type, element)[column]

    if operator == "btw":
        return f"{column} BETWEEN %s AND %s", [db(operand[0]), db(operand[1])]
    if operator in ORDERING:
        return f"{column} {ORDERING[operator]} %s", [db(operand)]
    if EQUALITY[operator] == "in":
        return f"{column} = ANY(%s)", [[db(element) for element in operand]]
    return f"{column} = %s", [db(operand)]


def condition_query(condition: Condition, application_id: str) -> search.IdQuery:
    predicate, params = _predicate(condition)
    if condition.operator in NEGATIVE:
        where = (f"NOT EXISTS (SELECT FROM {_VALUES_TABLE} v WHERE v.customer_id = users_customer.id "
                 f"AND v.definition_id = %s AND v.{predicate}) AND application_id = %s")
        return search.IdQuery(f"SELECT id FROM users_customer WHERE {where}",
                              [condition.definition.id, *params, application_id], where=where)
    return search.IdQuery(f"SELECT customer_id FROM {_VALUES_TABLE} WHERE definition_id = %s AND {predicate}",
                          [condition.definition.id, *params])


def customer_test(condition: Condition, id_column: str) -> tuple[str, list]:
    """The condition as a test of one customer (``id_column`` names its id): a probe of the typed index by
    (customer, definition). OFFSET 0 keeps it a per-row probe: PostgreSQL cannot turn it into a semi-join
    that would read every index row of the condition first."""
    predicate, params = _predicate(condition)
    probe = (f"EXISTS (SELECT FROM {_VALUES_TABLE} v WHERE v.customer_id = {id_column} AND v.definition_id = %s "
             f"AND v.{predicate} OFFSET 0)")
    return (f"NOT {probe}" if condition.operator in NEGATIVE else probe), [condition.definition.id, *params]


def customer_predicate(conditions: list[Condition], combination: str, id_column: str) -> tuple[str, list]:
    """The conditions combined with ``and`` / ``or`` as a test of one customer (see customer_test)."""
    tests = [customer_test(c, id_column) for c in conditions]
    joiner = " AND " if combination == "and" else " OR "
    return "(" + joiner.join(sql for sql, _ in tests) + ")", [x for _, params in tests for x in params]


def parse_combination(raw, field: str = "type") -> str:
    if not isinstance(raw, str) or raw.strip().lower() not in COMBINATIONS:
        raise ValidationFailed(f"{field} must be 'and' or 'or'.", code="invalid_condition")
    return raw.strip().lower()


def matching_query(conditions: list[Condition], combination: str, application_id: str) -> search.IdQuery | None:
    """The customers matching the conditions combined with ``and`` / ``or``; None when there are none
    (every customer matches)."""
    if not conditions:
        return None
    return search.combine([condition_query(c, application_id) for c in conditions], COMBINATIONS[combination])
