"""The console's first page: the overview of one application the staff user may see, from counters and
cheap queries (users/overview.py and each app's selectors), never another company's."""

from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
from django.utils import timezone

from core.actors import Actor
from core.jobs.models import Job
from core.tenancy import services as core_services
from groups import services as group_services
from sessions_app import services as session_services
from sessions_app import store
from users import events, overview
from users import services as user_services
from users.models import AuditEvent, Customer
from webhooks import services as webhook_services

SYSTEM = Actor.system("test")
PASSWORD = "Console-pass-123!"


def make_customer(application, phone, **fields):
    return user_services.create_customer(application, {"phone_number": phone, **fields}, SYSTEM)


@pytest.fixture
def store_data(application, foreign_application, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["localhost"]
    sessions_before = store.live_count(application.id)  # Redis outlives each test's database
    asha = make_customer(application, "9876500001", first_name="Asha")
    ravi = make_customer(application, "9876500002", first_name="Ravi")
    gone = make_customer(application, "9876500003", first_name="Gone")
    make_customer(application, "9876500004", first_name="Meena")
    user_services.set_customers_active(application, [ravi.pk], False, "fraud", SYSTEM)
    user_services.archive_customer(application, gone.pk, SYSTEM)
    for customer in (asha, ravi):
        user_services.record_event(customer.pk, application.id, events.SIGNED_IN, SYSTEM)
    user_services.record_event(asha.pk, application.id, events.SIGNED_UP, SYSTEM)
    # Two days ago: counted on its own day.
    user_services.record_event(asha.pk, application.id, events.SIGNED_IN, SYSTEM)
    AuditEvent.objects.filter(pk=AuditEvent.objects.latest("id").pk).update(
        created_at=timezone.now() - timedelta(days=2))
    session_services.create_session(application, asha.pk, actor=SYSTEM)
    session_services.create_session(application, asha.pk, actor=SYSTEM)
    group_services.create_group(application, {"name": "VIP", "description": "d", "user_data": [
        {"user_id": asha.pk}]}, SYSTEM)
    Job.objects.create(company_id=application.company_id, application=application, kind="customer_export",
                       status=Job.FAILED, finished_at=timezone.now(), error="disk full")
    subscription = webhook_services.create_subscription(application, {"url": "http://localhost:9/hooks"}, SYSTEM)
    type(subscription.subscription).objects.filter(pk=subscription.subscription.pk).update(
        failing_since=timezone.now() - timedelta(hours=2))
    # Another company's store, with its own customers and sign-ins: never on this company's overview.
    fiona = make_customer(foreign_application, "9876500009", first_name="Fiona")
    user_services.record_event(fiona.pk, foreign_application.id, events.SIGNED_IN, SYSTEM)
    return {"asha": asha, "ravi": ravi, "sessions_before": sessions_before}


@pytest.fixture
def staff_client(client, application):
    client.force_login(core_services.create_staff_user(company_id=559, username="staff559", password=PASSWORD))
    return client


def test_figures_from_counters_and_indexes(application, store_data):
    figures = overview.customer_figures(application.id)
    assert (figures.total, figures.archived, figures.blocked) == (3, 1, 1)
    assert figures.new_today == 3 and figures.new_this_week == 3
    days = overview.activity_per_day(application.id, 30)
    assert len(days) == 30 and days[-1].day == timezone.localdate()
    assert (days[-1].sign_ups, days[-1].sign_ins) == (1, 2)
    assert days[-3].sign_ins == 1 and sum(d.sign_ins for d in days) == 3
    assert store.live_count(application.id) == store_data["sessions_before"] + 2


def test_new_customers_counted_from_the_other_side_when_most_are_new(application, monkeypatch):
    customers = [make_customer(application, f"98765000{10 + i}") for i in range(5)]
    Customer.objects.filter(pk=customers[0].pk).update(created_at=timezone.now() - timedelta(days=40))
    monkeypatch.setattr(overview, "_COUNT_CAP", 2)  # more than 2 new: the old ones are counted instead
    figures = overview.customer_figures(application.id)
    assert figures.new_this_week == 4 and figures.new_today == 4


def test_week_starts_on_monday(application):
    customer = make_customer(application, "9876500020")
    wednesday = datetime(2026, 11, 25, 12, tzinfo=dt_timezone.utc)
    Customer.objects.filter(pk=customer.pk).update(created_at=datetime(2026, 11, 23, 1, tzinfo=dt_timezone.utc))
    figures = overview.customer_figures(application.id, now=wednesday)
    assert figures.new_this_week == 1 and figures.new_today == 0


def test_overview_is_the_console_first_page(staff_client, application, store_data):
    response = staff_client.get("/admin/")
    assert response.status_code == 200
    o = response.context["overview"]
    assert o.application == application and o.live_sessions == store_data["sessions_before"] + 2
    assert o.activity_totals == {"sign_ups": 1, "sign_ins": 3}
    assert [(g.name, size) for g, size in o.groups] == [("VIP", 1)]
    assert [j.error for j in o.jobs] == ["disk full"]
    assert [s.url for s in o.failing_subscriptions] == ["http://localhost:9/hooks"]
    page = response.content.decode()
    assert 'id="activity-chart"' in page and "<svg" in page and "sign-ins (3 in all)" in page
    assert 'id="figure-blocked"><strong>1</strong>' in page
    assert "Fiona" not in page and "Foreign" not in page
    # The application's list of models is still there below the overview.
    assert 'href="/admin/users/customer/"' in page


def test_staff_switch_between_their_applications_only(staff_client, application, other_application,
                                                      foreign_application, store_data):
    response = staff_client.get(f"/admin/?application={other_application.pk}")
    assert response.context["overview"].application == other_application
    assert {a.pk for a in response.context["overview_applications"]} == {application.pk, other_application.pk}
    # Another company's application: not offered, and asking for it shows one's own.
    response = staff_client.get(f"/admin/?application={foreign_application.pk}")
    assert response.context["overview"].application != foreign_application
    assert foreign_application.name not in response.content.decode()


def test_read_only_staff_see_the_overview(client, application, store_data):
    auditor = core_services.create_staff_user(company_id=559, username="auditor559", password=PASSWORD,
                                              role="read_only")
    client.force_login(auditor)
    response = client.get("/admin/")
    assert response.status_code == 200 and response.context["overview"].customers.total == 3


def test_staff_without_a_company_see_no_overview(client, store_data):
    from django.contrib.auth.models import User
    client.force_login(User.objects.create_user("nobody", password=PASSWORD, is_staff=True))
    response = client.get("/admin/")
    assert response.status_code == 200 and "overview" not in response.context


def test_a_session_ended_leaves_the_count(application, store_data):
    asha, before = store_data["asha"], store_data["sessions_before"]
    assert store.live_count(application.id) == before + 2
    session_services.end_all_sessions(application, asha.pk, "lost phone", SYSTEM)
    assert store.live_count(application.id) == before


def test_closed_hours_are_counted_once_and_outlive_the_events(application, store_data):
    from users.models import ActivityHour

    days = overview.activity_per_day(application.id, 30)
    assert days[-3].sign_ins == 1
    # The hour two days ago is closed: rolled up at the first look, and kept when its events are trimmed.
    assert ActivityHour.objects.filter(application=application, sign_ins=1).count() >= 1
    hours = ActivityHour.objects.filter(application=application).count()
    assert 24 * 28 <= hours <= 24 * 30 + 1  # every closed hour of the 30 days has its row, even at zero
    AuditEvent.objects.filter(action=events.SIGNED_IN, created_at__lt=timezone.now() - timedelta(days=1)).delete()
    again = overview.activity_per_day(application.id, 30)
    assert again[-3].sign_ins == 1 and ActivityHour.objects.filter(application=application).count() == hours
    # The hour going on is counted live: a sign-in now shows at once.
    user_services.record_event(store_data["asha"].pk, application.id, events.SIGNED_IN, SYSTEM)
    assert overview.activity_per_day(application.id, 30)[-1].sign_ins == days[-1].sign_ins + 1


def test_days_follow_the_time_zone(application, settings):
    settings.TIME_ZONE = "Asia/Kolkata"  # UTC+05:30: local hours start at half past in UTC
    customer = make_customer(application, "9876500030")
    user_services.record_event(customer.pk, application.id, events.SIGNED_IN, SYSTEM)
    user_services.record_event(customer.pk, application.id, events.SIGNED_IN, SYSTEM)
    first, second = AuditEvent.objects.filter(customer_id=customer.pk, action=events.SIGNED_IN).order_by("id")
    AuditEvent.objects.filter(pk=first.pk).update(created_at=datetime(2026, 11, 29, 20, 0, tzinfo=dt_timezone.utc))
    AuditEvent.objects.filter(pk=second.pk).update(created_at=datetime(2026, 11, 29, 18, 0, tzinfo=dt_timezone.utc))
    now = datetime(2026, 11, 30, 6, 0, tzinfo=dt_timezone.utc)  # 11:30 in Kolkata
    days = overview.activity_per_day(application.id, 30, now=now)
    # 20:00 UTC is 01:30 on the 30th in Kolkata (a closed hour, rolled up); 18:00 UTC is 23:30 on the 29th.
    assert (days[-1].day.isoformat(), days[-1].sign_ins) == ("2026-11-30", 1)
    assert (days[-2].day.isoformat(), days[-2].sign_ins) == ("2026-11-29", 1)
    assert overview.activity_per_day(application.id, 30, now=now)[-1].sign_ins == 1  # from the rollup now
