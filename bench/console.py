"""The console overview scenario of `make bench` (issue 15): the admin's first page for the bench application.

- ``console_overview``: ``GET /admin/?application=<bench application>`` as a staff user of the bench company
  (a Django session cookie made with the test client's ``force_login``, stored where the server reads its
  sessions): customer totals, new today / this week, blocked and archived counts, sign-ups and sign-ins per
  day for 30 days (the chart), live sessions, groups, jobs and failing subscriptions of an application with
  1,000,000 customers (console/overview.py). The answer is HTML; the check reads the figures' markup.

Target: "well under a second" at a million customers, expressed like every other HTTP target as a p95 ratio
to the floor of the same run: OVERVIEW_RATIO (≈ 100 ms beside a quiet floor's ~4 ms).
"""

from __future__ import annotations

import re

from bench.load import Request

OVERVIEW_RATIO = 25.0
STAFF_USERNAME = "bench-console"


def _session_cookie(company_id: int) -> str:
    from django.contrib.auth import get_user_model
    from django.conf import settings
    from django.test import Client

    from core.tenancy import services

    user = get_user_model().objects.filter(username=STAFF_USERNAME).first()
    if user is None:
        import secrets

        user = services.create_staff_user(company_id=company_id, username=STAFF_USERNAME,
                                          password=secrets.token_urlsafe(24), role="read_only")
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def overview_scenario(company_id: int, app_id: str, customers: int):
    from bench.scenarios import Scenario

    figure = re.compile(r'id="figure-customers"><strong>(\d+)</strong>')

    def check(answer: dict, index: int) -> str | None:
        html = answer["html"]
        found = figure.search(html)
        if not found or 'id="activity-chart"' not in html:
            return "no overview on the console's first page"
        if int(found.group(1)) < customers * 0.9:
            return f"the overview counts {found.group(1)} customers, expected about {customers:,}"
        return None

    return Scenario(
        "console_overview", "admin console overview",
        f"the console's first page for an application of {customers:,} customers (read-only staff)",
        [Request(f"/admin/?application={app_id}", headers=(("Cookie", _session_cookie(company_id)),
                                                            ("Accept", "text/html")))],
        OVERVIEW_RATIO, check, html=True,
    )
