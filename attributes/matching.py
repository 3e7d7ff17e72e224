"""One page of the customers matching attribute conditions, newest first, with item_total: for
filterUsersByAttributes and the users of a conditional group, fast at a million customers.

Two ways to the same page:

* **the set** (exact): the matches as a set (``conditions.matching_query``: index scans of the typed
  index combined with INTERSECT / UNION), counted and sorted. Its cost grows with how many customers
  each condition matches (every one of them is read to count them), so it is only taken when that is
  small: the application has at most ATTRIBUTE_FILTER_EXACT_TOTAL live customers, a contact narrows the
  query to one customer, or the estimate below says at most that many match.
* **the walk** (estimated total): the application's live customers newest first (users_customer's
  covering index), each tested by per-customer probes of the typed index (``customer_predicate``),
  until the page is full. It reads about (offset + size) / share-matching customers: a few hundred for
  page 1 when 5 % match. It walks at most WALK_MARGIN times that (plus WALK_SLACK); when that bound
  reaches every customer (deep pages) or the page is not full by then (the matches sit among older
  customers), the set answers instead, with the same estimated total.

The estimate: the share of matches among a block sample of about ATTRIBUTE_FILTER_SAMPLE of the
application's live customers (``TABLESAMPLE SYSTEM … REPEATABLE``, so every page of one query shows the
same total while the data stays the same), times the live customers (a trigger-kept counter), rounded
to three significant digits. With 3,000 sampled customers and 5 % matching its standard error is about
8 %. The share is kept in the cache (Redis) for ATTRIBUTE_FILTER_ESTIMATE_SECONDS per query, so paging
through one query, or many staff reading one group, sample once a minute, not at every request. So ``item_total`` is exact when fewer than about ATTRIBUTE_FILTER_EXACT_TOTAL customers match, and
an estimate above (docs/attributes.md).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from attributes import conditions as conditions_module
from core.api.pagination import PageRequest
from users import search
from users.selectors import customers_by_sql, customers_matching, live_customer_total

WALK_MARGIN = 4  # customers walked at most: this many times the expected number, ...
WALK_SLACK = 1_000  # ... plus this many
SAMPLE_SEED = 0  # REPEATABLE: the same blocks every time, so paging shows one total


@dataclass(frozen=True)
class Selection:
    """Whom to list: customers matching ``conditions`` combined with ``combination`` ("and" / "or"),
    plus ``include`` (ids in regardless: a group's whitelist), minus ``exclude`` (its blacklist),
    within ``narrow`` (exact-contact queries, all of which must match)."""

    conditions: tuple
    combination: str = "and"
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    narrow: tuple[search.IdQuery, ...] = ()


def set_query(selection: Selection, app_id: str) -> search.IdQuery:
    """The matching customers' ids as a set (exact; its cost grows with every condition's matches)."""
    query = conditions_module.matching_query(list(selection.conditions), selection.combination, app_id)
    if query is None:
        query = search.NOTHING
    if selection.include:
        query = search.combine([query, _ids_query(selection.include, app_id)], "UNION")
    if selection.narrow:
        query = search.combine([query, *selection.narrow], "INTERSECT")
    if selection.exclude:
        query = search.IdQuery(f"SELECT id FROM ({query.sql}) AS kept (id) WHERE NOT (id = ANY(%s::varchar[]))",
                               [*query.params, list(selection.exclude)])
    return query


def _ids_query(ids: tuple[str, ...], app_id: str) -> search.IdQuery:
    where = f"{search.CUSTOMERS}.id = ANY(%s::varchar[]) AND application_id = %s"
    return search.IdQuery(f"SELECT id FROM {search.CUSTOMERS} WHERE {where}", [list(ids), app_id], where=where)


def _predicate(selection: Selection, id_column: str) -> tuple[str, list]:
    sql, params = conditions_module.customer_predicate(list(selection.conditions), selection.combination, id_column)
    if selection.include:
        sql, params = f"({sql} OR {id_column} = ANY(%s::varchar[]))", [*params, list(selection.include)]
    if selection.exclude:
        sql, params = f"({sql} AND NOT ({id_column} = ANY(%s::varchar[])))", [*params, list(selection.exclude)]
    return sql, params


def matching_page(application, selection: Selection, page: PageRequest):
    """(customers, item_total) of one page, newest first (see the module docstring)."""
    if selection.conditions and not selection.narrow:
        live = live_customer_total(application)
        if live > settings.ATTRIBUTE_FILTER_EXACT_TOTAL:
            estimate = estimated_total(application, selection, live)
            if estimate is not None and estimate > settings.ATTRIBUTE_FILTER_EXACT_TOTAL:
                customers = _walk(application, selection, page, live, estimate)
                if customers is None:  # a deep page, or matches among older customers: the set, same total
                    customers, _ = customers_matching(application, set_query(selection, application.id),
                                                      archived=False, page=page, item_total=estimate)
                return customers, estimate
    return customers_matching(application, set_query(selection, application.id), archived=False, page=page)


def estimated_total(application, selection: Selection, live: int) -> int | None:
    """The estimated number of live matching customers: the share matching in a block sample (kept
    ATTRIBUTE_FILTER_ESTIMATE_SECONDS per query) times ``live``; None when the sample holds none of the
    application's customers."""
    predicate, params = _predicate(selection, f"{search.CUSTOMERS}.id")
    key = "attributes:match-share:" + hashlib.sha256(
        json.dumps([application.id, predicate, params], default=str).encode()).hexdigest()
    keep = settings.ATTRIBUTE_FILTER_ESTIMATE_SECONDS
    share = cache.get(key) if keep > 0 else None
    if share is None:
        share = _sampled_share(application, predicate, params, live)
        if keep > 0:
            cache.set(key, share, keep)
    return None if share < 0 else _three_significant_digits(live * share)


def _sampled_share(application, predicate: str, params: list, live: int) -> float:
    """matched / sampled among about ATTRIBUTE_FILTER_SAMPLE live customers; -1 when none was sampled."""
    percent = min(100.0, 100.0 * settings.ATTRIBUTE_FILTER_SAMPLE / max(live, 1))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FILTER (WHERE {predicate}), count(*) FROM {search.CUSTOMERS} "
                       f"TABLESAMPLE SYSTEM (%s) REPEATABLE (%s) WHERE application_id = %s AND NOT archived",
                       [*params, percent, SAMPLE_SEED, application.id])
        matched, sampled = cursor.fetchone()
    return matched / sampled if sampled else -1.0


def _three_significant_digits(value: float) -> int:
    number = int(round(value))
    digits = len(str(number))
    return number if digits <= 3 else int(round(number, 3 - digits))


def _walk(application, selection: Selection, page: PageRequest, live: int, estimate: int):
    """The page read by walking the newest live customers; None when that is not the cheaper way (the
    bound reaches every customer) or the bound came before the page was full."""
    wanted = page.offset + page.size
    bound = int(wanted * live / max(estimate, 1)) * WALK_MARGIN + WALK_SLACK
    if bound >= live:
        return None
    predicate, params = _predicate(selection, "newest.id")
    sql = (f"SELECT id FROM (SELECT id, created_at FROM {search.CUSTOMERS} WHERE application_id = %s AND NOT archived "
           f"{search.ORDER} LIMIT %s) AS newest WHERE {predicate} {search.ORDER} LIMIT %s OFFSET %s")
    customers = customers_by_sql(sql, [application.id, bound, *params, page.size, page.offset])
    if len(customers) < page.size:
        return None
    return customers
