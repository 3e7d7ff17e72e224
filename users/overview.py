"""Reads for the console's overview of an application: customer totals and the last days' activity.

Every figure comes from a counter the database keeps or an index that holds exactly what is counted, so
the overview stays fast at millions of customers (docs/admin.md, measured in ``make bench``):

* totals and archived: ``users_applicationcustomercount`` (trigger-kept);
* blocked: ``customer_blocked_idx`` (a partial index of the live blocked customers, usually few);
* new today / this week: ``customer_list_idx`` (application, archived, created_at), index-only, and when
  most customers are new (a store that was just imported), the old ones are counted instead;
* sign-ups and sign-ins per day: hourly rollups (``ActivityHour``) of the closed hours, each counted once
  from ``event_account_activity_idx`` (a partial index of those two event types), and the hour going on
  counted live from the same index.
"""

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone

from django.db import connection
from django.utils import timezone

from users import events
from users.models import ActivityHour, AuditEvent, Customer

ACTIVITY = (events.SIGNED_UP, events.SIGNED_IN)
_CUSTOMERS = Customer._meta.db_table
_EVENTS = AuditEvent._meta.db_table
# Counting live customers created since a moment walks the index from the newest: when more than this many
# match, the complement (live customers created before it) is counted too and the smaller side wins.
_COUNT_CAP = 100_000
# An hour is rolled up once this long after its end: an event's time is taken before its transaction commits.
CLOSING_MARGIN = timedelta(minutes=2)


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


def _hour_start(moment: datetime) -> datetime:
    return timezone.localtime(moment).replace(minute=0, second=0, microsecond=0)


def _count_activity(cursor, application_id: str, start: datetime, end: datetime | None) -> dict:
    """{(local hour start, action): events} in [start, end) (to now when ``end`` is None), from the index."""
    tz = timezone.get_current_timezone_name()
    cursor.execute(
        f"SELECT date_trunc('hour', created_at AT TIME ZONE %s) AS hour, action, count(*) FROM {_EVENTS}"
        " WHERE application_id = %s AND action = ANY(%s) AND created_at >= %s"
        + (" AND created_at < %s" if end else "") + " GROUP BY 1, 2",
        [tz, application_id, list(ACTIVITY), start, *([end] if end else [])])
    zone = timezone.get_current_timezone()
    return {(hour.replace(tzinfo=zone).astimezone(dt_timezone.utc), action): n for hour, action, n in cursor.fetchall()}


def _closed_hours(application_id: str, first: datetime, closed_until: datetime) -> dict[datetime, tuple[int, int]]:
    """The closed hours' counts from ActivityHour, counting (once) the hours not rolled up yet."""
    rows = {hour: (sign_ups, sign_ins) for hour, sign_ups, sign_ins in
            ActivityHour.objects.filter(application_id=application_id, hour__gte=first, hour__lt=closed_until)
            .values_list("hour", "sign_ups", "sign_ins")}
    # Local hours start an hour apart in absolute time, across DST changes too: stepped in UTC.
    start = first.astimezone(dt_timezone.utc)
    hours = [start + timedelta(hours=i) for i in range(int((closed_until - first).total_seconds()) // 3600)]
    missing = next((h for h in hours if h not in rows), None)
    if missing is not None:
        with connection.cursor() as cursor:
            counted = _count_activity(cursor, application_id, missing, closed_until)
        new = {h: (counted.get((h, events.SIGNED_UP), 0), counted.get((h, events.SIGNED_IN), 0))
               for h in hours if h >= missing and h not in rows}
        ActivityHour.objects.bulk_create(
            [ActivityHour(application_id=application_id, hour=h, sign_ups=u, sign_ins=i) for h, (u, i) in new.items()],
            ignore_conflicts=True)  # another request rolled them up meanwhile: the same counts
        rows.update(new)
    return rows


def activity_per_day(application_id: str, days: int = 30, now: datetime | None = None) -> list[DayActivity]:
    """Sign-ups and sign-ins (storefront) per day for the last ``days`` days, today last; days without any
    are zeros. Closed hours come from their rollup (ActivityHour, made at the first look); only the events of
    the hour going on (and the minute after the last one, for transactions still committing) are counted."""
    now = now or timezone.now()
    today = _start_of_day(now)
    first = today - timedelta(days=days - 1)
    closed_until = _hour_start(now - CLOSING_MARGIN)
    day_starts = [first + timedelta(days=i) for i in range(days)]  # local midnights (wall-clock arithmetic)
    boundaries = [d.astimezone(dt_timezone.utc) for d in day_starts]
    counts = [[0, 0] for _ in day_starts]

    def add(hour: datetime, sign_ups: int, sign_ins: int) -> None:
        index = bisect_right(boundaries, hour) - 1
        if index >= 0:
            counts[index][0] += sign_ups
            counts[index][1] += sign_ins

    for hour, (sign_ups, sign_ins) in _closed_hours(application_id, first, max(first, closed_until)).items():
        add(hour, sign_ups, sign_ins)
    with connection.cursor() as cursor:
        live = _count_activity(cursor, application_id, max(first, closed_until), None)
    for (hour, action), n in live.items():
        add(hour, n if action == events.SIGNED_UP else 0, n if action == events.SIGNED_IN else 0)
    return [DayActivity(start.date(), ups, ins) for start, (ups, ins) in zip(day_starts, counts)]
