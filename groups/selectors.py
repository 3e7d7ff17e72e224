"""Reads of customer groups: one group, lists, the members (a page, the count, an export stream).

Members of a group are ``(base ∪ whitelisted_users) − blacklisted_users``, live customers only:

- base of a ``bulk`` group: its ``Membership`` rows (what its files and JSON put there);
- base of a ``conditional`` group: the customers matching all its conditions now, compiled by
  ``attributes.conditions`` (no stored membership, so attribute changes count at once).

Archived customers are never listed or counted (restored ones come back: the membership row stays).
"""

from __future__ import annotations

from django.db import connection

from attributes import conditions as attribute_conditions
from attributes import matching
from attributes.models import AttributeDefinition
from core.api.errors import Conflict, NotFound, ValidationFailed
from core.ids import is_object_id
from core.jobs.models import Job
from core.api.pagination import PageRequest
from groups.filters import filter_groups
from groups.models import Membership, UserGroup
from users import search
from users.selectors import customers_matching

_MEMBERSHIP = Membership._meta.db_table


# ----------------------------------------------------------------------------- status

def effective_status(group: UserGroup) -> str:
    """The group's status: its latest job's state while that job runs or after it failed, else the stored one."""
    job = group.job
    if job is not None:
        if job.status == Job.PENDING:
            return UserGroup.PENDING
        if job.status == Job.PROCESSING:
            return UserGroup.PROCESSING
        if job.status in (Job.FAILED, Job.CANCELLED):
            return UserGroup.FAILED
    return group.status


# ----------------------------------------------------------------------------- one group, lists

def groups_of(application):
    return UserGroup.objects.filter(application=application).select_related("job")


def get_group(application, group_id, *, lock: bool = False) -> UserGroup:
    """The group by its ``_id`` (24 hex) or its ``uid`` (digits); 404 when the application has none."""
    group_id = str(group_id).strip()
    queryset = groups_of(application)
    if lock:
        queryset = UserGroup.objects.select_for_update().filter(application=application)
    if is_object_id(group_id):
        group = queryset.filter(pk=group_id).first()
    elif group_id.isdecimal() and len(group_id) <= 9:
        group = queryset.filter(uid=int(group_id)).first()
    else:
        raise ValidationFailed(f"group_id must be the group's 24-hex _id or its uid, got {group_id[:40]!r}.")
    if group is None:
        raise NotFound(f"No user group {group_id} in this application.", code="group_not_found")
    return group


def list_groups(application, params, page: PageRequest) -> tuple[list[UserGroup], int]:
    """getUserGroups: the groups the query parameters select (groups.filters), newest first (highest uid)."""
    queryset = filter_groups(groups_of(application), params)
    total = queryset.count()
    return list(queryset.order_by("-uid")[page.offset:page.offset + page.size]), total


def definitions_of(groups) -> dict[str, AttributeDefinition]:
    """The attribute definitions the groups' conditions name (one query for a whole page of groups)."""
    ids = {c.get("user_attribute_definition_id") for g in groups for c in (g.conditions or [])}
    return {d.id: d for d in AttributeDefinition.objects.filter(id__in=[i for i in ids if i])}


def groups_using_definition(definition: AttributeDefinition) -> list[str]:
    """The in-use check registered with attributes.services: groups whose conditions name the definition."""
    if definition._state.adding:  # never saved: nothing can name it
        return []
    using = UserGroup.objects.filter(application_id=definition.application_id,
                                     conditions__contains=[{"user_attribute_definition_id": definition.id}])
    return [f"user group {g.uid} '{g.name}'" for g in using.order_by("uid")]


# ----------------------------------------------------------------------------- members

def _id_array(ids) -> list[str]:
    return list(ids or [])


def parsed_conditions(application, group: UserGroup) -> list:
    """The group's conditions compiled against the definitions as they are now; 409 if one no longer fits
    (a definition's type was changed since: update the conditions)."""
    try:
        return attribute_conditions.parse_conditions(application, group.conditions,
                                                     definition_key="user_attribute_definition_id")
    except ValidationFailed as exc:
        raise Conflict(f"The conditions of user group {group.uid} no longer fit the attribute definitions: "
                       f"{exc.message}", code="group_conditions_invalid") from None


def _without_blacklisted(query: search.IdQuery, group) -> search.IdQuery:
    if not group.blacklisted_users:
        return query
    return search.IdQuery(f"SELECT id FROM ({query.sql}) AS members (id) WHERE NOT (id = ANY(%s::varchar[]))",
                          [*query.params, _id_array(group.blacklisted_users)])


def _conditional_selection(application, group) -> matching.Selection:
    """No conditions select nobody (an empty rule set), the whitelist only."""
    return matching.Selection(tuple(parsed_conditions(application, group)), "and",
                              include=tuple(_id_array(group.whitelisted_users)),
                              exclude=tuple(_id_array(group.blacklisted_users)))


def _conditional_query(application, group) -> search.IdQuery:
    return matching.set_query(_conditional_selection(application, group), application.id)


def _bulk_query(application, group, *, scan: bool) -> search.IdQuery:
    """``scan``: a condition on users_customer, for dense groups (walk the newest customers and keep the
    members: page 1 reads a few index entries); else the membership rows first (small groups)."""
    if scan:
        # OFFSET 0 keeps the EXISTS a per-row probe of the primary key: PostgreSQL cannot turn it into a
        # semi-join, which it might drive from the membership side on stale statistics.
        member = (f"EXISTS (SELECT FROM {_MEMBERSHIP} m WHERE m.group_id = %s AND m.customer_id = users_customer.id "
                  "OFFSET 0)")
        params = [group.pk]
        if group.whitelisted_users:
            member = f"({member} OR users_customer.id = ANY(%s::varchar[]))"
            params.append(_id_array(group.whitelisted_users))
        if group.blacklisted_users:
            member += " AND NOT (users_customer.id = ANY(%s::varchar[]))"
            params.append(_id_array(group.blacklisted_users))
        where = f"{member} AND application_id = %s"
        return search.IdQuery(f"SELECT id FROM users_customer WHERE {where}", [*params, application.id], where=where)
    sql, params = f"SELECT customer_id FROM {_MEMBERSHIP} WHERE group_id = %s", [group.pk]
    if group.whitelisted_users:
        sql, params = f"{sql} UNION SELECT unnest(%s::varchar[])", [*params, _id_array(group.whitelisted_users)]
    return _without_blacklisted(search.IdQuery(sql, params), group)


def _live_customers(application) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT total - archived FROM users_applicationcustomercount WHERE application_id = %s",
                       [application.id])
        row = cursor.fetchone()
    return row[0] if row else 0


def bulk_member_total(application, group: UserGroup) -> int:
    """Members of a bulk group without counting its rows: the trigger-kept row count, minus archived
    members (a walk over the application's archived customers, usually few), plus live whitelisted
    customers without a row, minus live blacklisted ones among both."""
    white, black = _id_array(group.whitelisted_users), _id_array(group.blacklisted_users)
    member = f"EXISTS (SELECT FROM {_MEMBERSHIP} m WHERE m.group_id = %(group)s AND m.customer_id = c.id)"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce((SELECT members FROM customer_groups_groupmembercount WHERE group_id = %(group)s), 0)"
            " - CASE WHEN coalesce((SELECT archived FROM users_applicationcustomercount"
            "                       WHERE application_id = %(app)s), 0) > 0"
            "  THEN (SELECT count(*) FROM users_customer c WHERE c.application_id = %(app)s AND c.archived"
            f"        AND {member})"
            "  ELSE 0 END"
            f" + (SELECT count(*) FROM users_customer c WHERE c.application_id = %(app)s AND NOT c.archived"
            f"    AND c.id = ANY(%(white)s::varchar[]) AND NOT {member})"
            f" - (SELECT count(*) FROM users_customer c WHERE c.application_id = %(app)s AND NOT c.archived"
            f"    AND c.id = ANY(%(black)s::varchar[]) AND ({member} OR c.id = ANY(%(white)s::varchar[])))",
            {"group": group.pk, "app": application.id, "white": white, "black": black})
        return max(0, cursor.fetchone()[0])


def members_query(application, group: UserGroup, page: PageRequest | None = None, *,
                  total: int | None = None) -> search.IdQuery:
    """The IdQuery of the group's members (see the module docstring)."""
    if group.type == UserGroup.CONDITIONAL:
        return _conditional_query(application, group)
    if total is None or page is None:
        return _bulk_query(application, group, scan=False)
    # Dense or sparse? Walking the newest customers finds a page of members after about
    # (offset + size) * customers / members index entries; reading the members first costs about
    # `members`. The cheaper one wins (the planner's guess for a fresh group may be stale).
    scan = total * total >= (page.offset + page.size) * _live_customers(application)
    return _bulk_query(application, group, scan=scan)


def group_members(application, group: UserGroup, page: PageRequest):
    """One page of the group's members, newest first, with item_total: (customers, total)."""
    if group.type == UserGroup.CONDITIONAL:
        return matching.matching_page(application, _conditional_selection(application, group), page)
    total = bulk_member_total(application, group)
    query = members_query(application, group, page, total=total)
    return customers_matching(application, query, archived=False, page=page, item_total=total)


def member_rows(application, group: UserGroup, *, batch: int = 5000):
    """Every member as (user_id, email, phone_number, first_name, last_name), streamed through a
    server-side cursor (run it inside a transaction); the primary email and phone, phone as +CC number."""
    query = members_query(application, group)
    sql = ("SELECT c.id, coalesce((SELECT e.email FROM users_customeremail e WHERE e.customer_id = c.id"
           "                       ORDER BY e.primary DESC, e.id LIMIT 1), ''),"
           " coalesce((SELECT p.e164 FROM users_customerphone p WHERE p.customer_id = c.id"
           "           ORDER BY p.primary DESC, p.id LIMIT 1), ''), c.first_name, c.last_name"
           f" FROM users_customer c WHERE c.application_id = %s AND NOT c.archived AND c.id IN ({query.sql})")
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [application.id, *query.params])
        while rows := cursor.fetchmany(batch):
            yield from rows


def groups_with_sizes(application, limit: int = 10) -> list[tuple[UserGroup, int | None]]:
    """The application's newest active groups with their member counts for the console's overview: bulk
    groups from their kept counts; conditional ones None (matching a million customers is their page's work)."""
    groups = list(groups_of(application).filter(is_active=True).order_by("-created_at")[:limit])
    return [(group, None if group.type == UserGroup.CONDITIONAL else bulk_member_total(application, group))
            for group in groups]
