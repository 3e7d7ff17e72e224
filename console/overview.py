"""The console's first page: how one of the staff user's applications is doing, from counters and cheap
queries only (each app's selectors), so that it opens at once at millions of customers (docs/admin.md)."""

import logging
from dataclasses import dataclass

import redis
from django.urls import reverse

from console.charts import Series, line_chart
from core.jobs.selectors import running_and_recently_failed
from core.tenancy.models import Application
from core.tenancy.scoping import scope_queryset
from groups.selectors import groups_with_sizes
from sessions_app.selectors import live_session_count
from users.overview import activity_per_day, customer_figures
from webhooks.selectors import failing_subscriptions

logger = logging.getLogger(__name__)
DAYS = 30


@dataclass
class Overview:
    application: Application
    customers: object  # users.overview.CustomerFigures
    live_sessions: int | None  # None: Redis unreachable
    chart: str
    activity_totals: dict
    groups: list
    jobs: list
    failing_subscriptions: list


def overview_of(application: Application) -> Overview:
    days = activity_per_day(application.id, DAYS)
    labels = [day.day.strftime("%d %b") for day in days]
    chart = line_chart(f"Sign-ups and sign-ins per day, last {DAYS} days", labels, [
        Series("sign-ups", [d.sign_ups for d in days], "#417690"),
        Series("sign-ins", [d.sign_ins for d in days], "#e07a1f"),
    ])
    try:
        sessions = live_session_count(application)
    except redis.RedisError as exc:
        logger.warning("overview: live sessions unavailable (%s)", type(exc).__name__)
        sessions = None
    return Overview(
        application=application,
        customers=customer_figures(application.id),
        live_sessions=sessions,
        chart=chart,
        activity_totals={"sign_ups": sum(d.sign_ups for d in days), "sign_ins": sum(d.sign_ins for d in days)},
        groups=groups_with_sizes(application),
        jobs=running_and_recently_failed(application),
        failing_subscriptions=failing_subscriptions(application),
    )


def overview_context(request) -> dict:
    """The index page's context: the applications the user may see and the chosen one's overview."""
    applications = list(scope_queryset(Application.objects.order_by("name", "id"), "company", request)[:500])
    if not applications:
        return {"overview_applications": []}
    wanted = request.GET.get("application", "")
    chosen = next((a for a in applications if a.pk == wanted), applications[0])
    return {
        "overview_applications": applications,
        "overview": overview_of(chosen),
        "overview_links": {
            "customers": reverse("admin:users_customer_changelist") + f"?application__id__exact={chosen.pk}",
            "jobs": reverse("admin:core_job_changelist") + f"?application__id__exact={chosen.pk}",
            "groups": reverse("admin:customer_groups_usergroup_changelist"),
            "subscriptions": reverse("admin:webhooks_subscription_changelist"),
        },
    }
