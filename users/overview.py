"""Reads for the console's overview of an application: customer totals and the last days' activity.

Every figure comes from a counter the database keeps or an index that holds exactly what is counted, so
the overview stays fast at millions of customers (docs/admin.md, measured in ``make bench``):

* totals and archived: ``users_applicationcustomercount`` (trigger-kept);
* blocked: ``customer_blocked_idx`` (a partial index of the live blocked customers, usually few);
* new today / this week: ``customer_list_idx`` (application, archived, created_at), index-only, and when
  most customers are new (a store that was just imported), the old ones are counted instead;
* sign-ups and sign-ins per day: ``event_account_activity_idx``, a partial index of those two event types.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection
from django.utils import timezone

from users import events
from users.models import AuditEvent, Customer

ACTIVITY = (events.SIGNED_UP, events.SIGNED_IN)
_CUSTOMERS = Customer._meta.db_table
_EVENTS = AuditEvent._meta.db_table
# Counting live customers created since a moment walks the index from the newest: when more than this many
# match, the complement (live customers created before it) is counted too and the smaller side wins.
_COUNT_CAP = 100_000


@dataclass(frozen=True)
class CustomerFigures:
    total: int  # live (not archived) customers
    archived: int
    blocked: int
    new_today: int
    new_this_week: int  # since Monday 00:00 (TIME_ZONE)


@dataclass(frozen=True)
class DayActivity:
    day: date
    sign_ups: int
    sign_ins: int


def _start_of_day(moment: datetime) -> datetime:
    local = timezone.localtime(moment)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _live_since(cursor, application_id: str, since: datetime, live_total: int) -> int:
    """Live customers created at or after ``since``: the newer side counted up to _COUNT_CAP, else the older."""
    cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM {_CUSTOMERS} WHERE application_id = %s AND NOT archived"
                   " AND created_at >= %s LIMIT %s) AS newer", [application_id, since, _COUNT_CAP + 1])
    newer = cursor.fetchone()[0]
    if newer <= _COUNT_CAP:
        return newer
    cursor.execute(f"SELECT count(*) FROM {_CUSTOMERS} WHERE application_id = %s AND NOT archived"
                   " AND created_at < %s", [application_id, since])
    return max(0, live_total - cursor.fetchone()[0])


def customer_figures(application_id: str, now: datetime | None = None) -> CustomerFigures:
    today = _start_of_day(now or timezone.now())
    week = today - timedelta(days=today.weekday())
    with connection.cursor() as cursor:
        cursor.execute("SELECT total, archived FROM users_applicationcustomercount WHERE application_id = %s",
                       [application_id])
        total, archived = cursor.fetchone() or (0, 0)
        live = max(0, total - archived)
        cursor.execute(f"SELECT count(*) FROM {_CUSTOMERS} WHERE application_id = %s AND NOT active"
                       " AND NOT archived", [application_id])
        blocked = cursor.fetchone()[0]
        new_this_week = _live_since(cursor, application_id, week, live)
        new_today = new_this_week if week == today else _live_since(cursor, application_id, today, live)
    return CustomerFigures(live, archived, blocked, new_today, new_this_week)


def activity_per_day(application_id: str, days: int = 30, now: datetime | None = None) -> list[DayActivity]:
    """Sign-ups and sign-ins (storefront) per day for the last ``days`` days, today last; days without any
    are zeros."""
    today = _start_of_day(now or timezone.now())
    first = today - timedelta(days=days - 1)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (created_at AT TIME ZONE %s)::date AS day, action, count(*) FROM {_EVENTS}"
            " WHERE application_id = %s AND action = ANY(%s) AND created_at >= %s GROUP BY 1, 2",
            [timezone.get_current_timezone_name(), application_id, list(ACTIVITY), first])
        counts = {(day, action): n for day, action, n in cursor.fetchall()}
    every_day = [first.date() + timedelta(days=i) for i in range(days)]
    return [DayActivity(day, counts.get((day, events.SIGNED_UP), 0), counts.get((day, events.SIGNED_IN), 0))
            for day in every_day]
