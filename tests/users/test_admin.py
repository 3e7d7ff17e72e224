"""The admin console: company scoping, read-only pages, and actions that go through users.services."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.utils import timezone

from core.tenancy import services as core_services
from core.actors import Actor
from users import services as user_services
from users.models import AuditEvent, Customer

PASSWORD = "Adm1n-console-pass!"
CUSTOMERS = "/admin/users/customer/"
AUDIT = "/admin/users/auditevent/"


def make_customer(application, phone, email=None, **fields):
    data = {"phone_number": phone, **fields}
    if email:
        data["email"] = email
    return user_services.create_customer(application, data, Actor.system("test"))


@pytest.fixture
def staff(application):
    return core_services.create_staff_user(company_id=559, username="staff559", password=PASSWORD)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def customers(application, other_application, foreign_application):
    return {
        "asha": make_customer(application, "9876500001", "asha@example.com", first_name="Asha", last_name="Rao"),
        "ravi": make_customer(application, "9876500002", "ravi@example.com", first_name="Ravi"),
        "second": make_customer(other_application, "9876500003", "sam@example.com", first_name="Sam"),
        "foreign": make_customer(foreign_application, "9876500004", "fiona@foreign.example", first_name="Fiona"),
    }


def listed_ids(response):
    assert response.status_code == 200, response.content[:500]
    return {c.pk for c in response.context["cl"].result_list}


def messages_of(response):
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def run_action(client, action, *customers, follow=False):
    return client.post(CUSTOMERS, {"action": action, "_selected_action": [c.pk for c in customers]},
                       follow=follow)


# --------------------------------------------------------------------------- scoping

def test_staff_sees_only_their_company_customers(staff_client, customers):
    ids = listed_ids(staff_client.get(CUSTOMERS))
    assert ids == {customers["asha"].pk, customers["ravi"].pk, customers["second"].pk}
    page = staff_client.get(CUSTOMERS).content.decode()
    assert "asha@example.com" in page and "+919876500001" in page
    assert "fiona@foreign.example" not in page and "Foreign Store" not in page


def test_application_filter_offers_only_own_applications(staff_client, customers):
    page = staff_client.get(CUSTOMERS).content.decode()
    assert "Demo Store" in page and "Second Store" in page
    assert "Foreign Store" not in page


def test_other_company_customer_page_is_not_shown(staff_client, customers):
    foreign = customers["foreign"]
    for suffix in ("change/", "history/", "delete/"):
        response = staff_client.get(f"{CUSTOMERS}{foreign.pk}/{suffix}")
        assert response.status_code in (302, 403, 404), (suffix, response.status_code)
        if response.status_code == 302:
            assert foreign.pk not in response["Location"]
            followed = staff_client.get(response["Location"])
            assert "fiona@foreign.example" not in followed.content.decode()
    events = staff_client.get(f"{AUDIT}?customer_id={foreign.pk}")
    assert listed_ids(events) == set()


def test_own_customer_page_is_read_only_with_contacts(staff_client, customers):
    asha = customers["asha"]
    response = staff_client.get(f"{CUSTOMERS}{asha.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "asha@example.com" in page and "+919876500001" in page
    assert 'name="_save"' not in page
    # No direct edits: a POST is refused and nothing changes.
    response = staff_client.post(f"{CUSTOMERS}{asha.pk}/change/", {"first_name": "Changed"})
    assert response.status_code == 403
    asha.refresh_from_db()
    assert asha.first_name == "Asha"
    assert staff_client.get(f"{CUSTOMERS}add/").status_code == 200  # adding goes through createUser's rules


def test_staff_without_profile_sees_nothing(client, customers):
    user = get_user_model().objects.create_user("loose", password=PASSWORD, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="users"))
    client.force_login(user)
    assert listed_ids(client.get(CUSTOMERS)) == set()
    response = client.get(f"{CUSTOMERS}{customers['asha'].pk}/change/")
    assert response.status_code == 302
    assert client.get("/admin/core/application/").status_code == 403


def test_superuser_sees_every_company(client, customers):
    admin = get_user_model().objects.create_superuser("root", password=PASSWORD)
    client.force_login(admin)
    assert listed_ids(client.get(CUSTOMERS)) == {c.pk for c in customers.values()}
    assert client.get(f"{CUSTOMERS}{customers['foreign'].pk}/change/").status_code == 200
    for path in ("/admin/core/company/", "/admin/core/application/", "/admin/core/apiclient/",
                 "/admin/core/oauthtoken/", "/admin/core/staffprofile/"):
        assert client.get(path).status_code == 200, path


def test_cannot_act_on_another_company_customer(staff_client, customers):
    foreign = customers["foreign"]
    run_action(staff_client, "block_customers", foreign)
    foreign.refresh_from_db()
    assert foreign.active is True
    assert not AuditEvent.objects.filter(customer_id=foreign.pk, action="customer.blocked").exists()


# --------------------------------------------------------------------------- search

@pytest.mark.parametrize("term, expected", [
    ("asha@example", {"asha"}),
    ("ASHA@EXAMPLE.COM", {"asha"}),
    ("9876500002", {"ravi"}),
    ("98765", {"asha", "ravi", "second"}),
    ("+91 98765 00001", {"asha"}),
    ("+919876500003", {"second"}),
    ("asha", {"asha"}),
    ("rao", {"asha"}),
    ("asha rao", {"asha"}),
    ("fiona", set()),  # another company's customer is never found
    ("fiona@foreign", set()),
    ("9876500004", set()),
    ("nobody", set()),
])
def test_search_by_email_phone_and_name(staff_client, customers, term, expected):
    ids = listed_ids(staff_client.get(CUSTOMERS, {"q": term}))
    assert ids == {customers[name].pk for name in expected}


def test_search_by_customer_id(staff_client, customers):
    asha = customers["asha"]
    assert listed_ids(staff_client.get(CUSTOMERS, {"q": asha.pk})) == {asha.pk}
    assert listed_ids(staff_client.get(CUSTOMERS, {"q": customers["foreign"].pk})) == set()


def test_filters_active_and_archived(staff_client, customers):
    asha, ravi = customers["asha"], customers["ravi"]
    run_action(staff_client, "block_customers", asha)
    run_action(staff_client, "archive_customers", ravi)
    assert listed_ids(staff_client.get(CUSTOMERS, {"active__exact": "0"})) == {asha.pk}
    assert listed_ids(staff_client.get(CUSTOMERS, {"archived__exact": "1"})) == {ravi.pk}
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    assert listed_ids(staff_client.get(CUSTOMERS, {"created_at__gte": str(today)})) == {
        c.pk for c in (asha, ravi, customers["second"])}


# --------------------------------------------------------------------------- actions

def test_block_action_blocks_and_audits_as_staff(staff_client, staff, customers):
    asha, ravi = customers["asha"], customers["ravi"]
    response = run_action(staff_client, "block_customers", asha, ravi)
    assert response.status_code == 302
    assert ("success", "Blocked 2 customers.") in messages_of(response)
    asha.refresh_from_db()
    assert asha.active is False
    event = AuditEvent.objects.get(customer_id=asha.pk, action="customer.blocked")
    assert event.actor_type == "staff"
    assert event.actor_id == str(staff.pk)
    assert event.actor_name == "staff559"
    assert event.reason == "Blocked from the admin console by staff559"
    assert event.request_id

    response = run_action(staff_client, "unblock_customers", asha)
    assert ("success", "Unblocked 1 customer.") in messages_of(response)
    asha.refresh_from_db()
    assert asha.active is True
    assert AuditEvent.objects.filter(customer_id=asha.pk, action="customer.unblocked", actor_type="staff").exists()


def test_block_skips_archived_customers(staff_client, customers):
    asha, ravi = customers["asha"], customers["ravi"]
    run_action(staff_client, "archive_customers", ravi)
    response = run_action(staff_client, "block_customers", asha, ravi)
    found = messages_of(response)
    assert ("success", "Blocked 1 customer.") in found
    assert any(level == "warning" and "Ravi" in text for level, text in found)


def test_archive_and_restore_actions(staff_client, customers):
    asha = customers["asha"]
    response = run_action(staff_client, "archive_customers", asha)
    assert ("success", "Archived 1 customer.") in messages_of(response)
    asha.refresh_from_db()
    assert asha.archived is True and asha.restore_until is not None
    archived = AuditEvent.objects.get(customer_id=asha.pk, action="customer.archived")
    assert archived.actor_type == "staff" and "admin console" in archived.reason

    response = run_action(staff_client, "restore_customers", asha)
    assert ("success", "Restored 1 customer.") in messages_of(response)
    asha.refresh_from_db()
    assert asha.archived is False
    restored = AuditEvent.objects.get(customer_id=asha.pk, action="customer.restored")
    assert restored.actor_type == "staff" and restored.reason == "Restored from the admin console by staff559"


def test_service_errors_become_messages_not_500(staff_client, customers):
    asha, ravi = customers["asha"], customers["ravi"]
    # Restoring a customer that is not archived: a Conflict from the service.
    response = run_action(staff_client, "restore_customers", asha)
    assert response.status_code == 302
    assert any(level == "error" and "is not archived" in text for level, text in messages_of(response))
    # Archived twice: the second is an error, the page still works.
    run_action(staff_client, "archive_customers", ravi)
    response = run_action(staff_client, "archive_customers", ravi, follow=True)
    assert response.status_code == 200
    assert "already archived" in response.content.decode()
    # Restore window passed: Gone.
    Customer.objects.filter(pk=ravi.pk).update(restore_until=timezone.now() - timedelta(days=1))
    response = run_action(staff_client, "restore_customers", ravi)
    assert any(level == "error" and "can no longer be restored" in text for level, text in messages_of(response))
    ravi.refresh_from_db()
    assert ravi.archived is True


def test_restore_conflict_when_contacts_reused(staff_client, application, customers):
    asha = customers["asha"]
    run_action(staff_client, "archive_customers", asha)
    make_customer(application, "9876500001", "asha@example.com", first_name="New Asha")
    response = run_action(staff_client, "restore_customers", asha)
    assert any(level == "error" and "Already used" in text for level, text in messages_of(response))
    asha.refresh_from_db()
    assert asha.archived is True


def test_actions_need_change_permission(client, application, customers):
    viewer = get_user_model().objects.create_user("viewer", password=PASSWORD, is_staff=True)
    from core.tenancy.models import StaffProfile

    StaffProfile.objects.create(user=viewer, company_id=559)
    viewer.user_permissions.set(Permission.objects.filter(codename__in=["view_customer", "view_customeremail",
                                                                        "view_customerphone"]))
    client.force_login(viewer)
    response = client.get(CUSTOMERS)
    assert response.status_code == 200
    assert "block_customers" not in response.content.decode()
    run_action(client, "block_customers", customers["asha"])
    customers["asha"].refresh_from_db()
    assert customers["asha"].active is True


# --------------------------------------------------------------------------- audit events

def test_audit_events_are_read_only_and_scoped(staff_client, customers):
    asha = customers["asha"]
    run_action(staff_client, "block_customers", asha)
    events = listed_ids(staff_client.get(AUDIT))
    own = set(AuditEvent.objects.filter(application__company_id=559).values_list("pk", flat=True))
    assert events == own
    foreign_event = AuditEvent.objects.get(customer_id=customers["foreign"].pk)
    assert foreign_event.pk not in events

    page = staff_client.get(AUDIT).content.decode()
    assert "delete_selected" not in page
    assert staff_client.get(f"{AUDIT}add/").status_code == 403
    event = AuditEvent.objects.filter(customer_id=asha.pk).first()
    response = staff_client.get(f"{AUDIT}{event.pk}/change/")
    assert response.status_code == 200 and 'name="_save"' not in response.content.decode()
    assert staff_client.post(f"{AUDIT}{event.pk}/change/", {"reason": "x"}).status_code == 403
    assert staff_client.post(f"{AUDIT}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk, reason=event.reason).exists()
    assert staff_client.get(f"{AUDIT}{foreign_event.pk}/change/").status_code == 302

    by_customer = listed_ids(staff_client.get(AUDIT, {"q": asha.pk}))
    assert by_customer == set(AuditEvent.objects.filter(customer_id=asha.pk).values_list("pk", flat=True))
    assert listed_ids(staff_client.get(AUDIT, {"actor_type": "staff"})) == set(
        AuditEvent.objects.filter(actor_type="staff").values_list("pk", flat=True))


# --------------------------------------------------------------------------- core models

def test_staff_views_own_applications_and_clients_without_secrets(staff_client, application, foreign_application):
    own_client, _ = core_services.create_api_client(company_id=559, name="Own integration")
    foreign_client, _ = core_services.create_api_client(company_id=777, name="Foreign integration")

    index = staff_client.get("/admin/").content.decode()
    assert "/admin/core/application/" in index and "/admin/core/apiclient/" in index
    assert "/admin/core/staffprofile/" not in index and "/admin/core/oauthtoken/" not in index

    apps = staff_client.get("/admin/core/application/")
    assert listed_ids(apps) == {application.pk}
    assert application.token_hash not in apps.content.decode()
    page = staff_client.get(f"/admin/core/application/{application.pk}/change/")
    assert page.status_code == 200 and application.token_hash not in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    assert staff_client.get(f"/admin/core/application/{foreign_application.pk}/change/").status_code == 302

    clients = staff_client.get("/admin/core/apiclient/")
    assert listed_ids(clients) == {own_client.pk}
    page = staff_client.get(f"/admin/core/apiclient/{own_client.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert own_client.secret_hash not in text and "secret" not in text.lower()
    assert "application/customers/read" in text
    assert staff_client.get(f"/admin/core/apiclient/{foreign_client.pk}/change/").status_code == 302
    response = staff_client.post(f"/admin/core/apiclient/{own_client.pk}/change/",
                                 {"name": "x", "is_active": "", "scopes": []})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    own_client.refresh_from_db()
    assert own_client.is_active is True and own_client.name == "Own integration"

    companies = staff_client.get("/admin/core/company/")
    assert listed_ids(companies) == {559}
    assert staff_client.get("/admin/core/company/777/change/").status_code == 302
    assert staff_client.get("/admin/core/company/add/").status_code == 403

    for path in ("/admin/core/staffprofile/", "/admin/core/oauthtoken/", "/admin/auth/user/",
                 "/admin/auth/group/"):
        assert staff_client.get(path).status_code == 403, path


def test_superuser_edits_api_client_scopes(client, application):
    admin = get_user_model().objects.create_superuser("root", password=PASSWORD)
    client.force_login(admin)
    api_client, _ = core_services.create_api_client(company_id=559, name="Integration")
    response = client.post(f"/admin/core/apiclient/{api_client.pk}/change/",
                           {"name": "Renamed", "scopes": ["application/customers/read"], "is_active": "on"})
    assert response.status_code == 302, response.content[:2000]
    api_client.refresh_from_db()
    assert api_client.name == "Renamed" and api_client.scopes == ["application/customers/read"]
    assert api_client.secret_hash not in client.get(f"/admin/core/apiclient/{api_client.pk}/change/").content.decode()
    token = core_services.issue_token(api_client)
    assert client.get("/admin/core/oauthtoken/").status_code == 200
    assert client.get("/admin/core/oauthtoken/add/").status_code == 403
    del token


def test_foreign_key_choices_are_limited_to_the_company(rf, staff, application, other_application,
                                                        foreign_application):
    from django.contrib import admin as django_admin

    from core.tenancy.models import ApiClient
    from users.models import CustomerEmail

    request = rf.get("/admin/")
    request.user = staff
    customer_admin = django_admin.site._registry[Customer]
    field = customer_admin.formfield_for_foreignkey(Customer._meta.get_field("application"), request)
    assert set(field.queryset.values_list("pk", flat=True)) == {application.pk, other_application.pk}
    client_admin = django_admin.site._registry[ApiClient]
    field = client_admin.formfield_for_foreignkey(ApiClient._meta.get_field("company"), request)
    assert list(field.queryset.values_list("pk", flat=True)) == [559]
    # An inline's foreign keys too.
    inline = customer_admin.get_inline_instances(request)[0]
    field = inline.formfield_for_foreignkey(CustomerEmail._meta.get_field("application"), request)
    assert foreign_application.pk not in set(field.queryset.values_list("pk", flat=True))

    nobody = get_user_model().objects.create_user("nobody", password=PASSWORD, is_staff=True)
    request = rf.get("/admin/")
    request.user = nobody
    field = customer_admin.formfield_for_foreignkey(Customer._meta.get_field("application"), request)
    assert not field.queryset.exists()


# --------------------------------------------------------------------------- changelist count

@pytest.fixture
def counted(application, other_application, foreign_application, customers):
    """More customers in every application, some archived and one blocked."""
    system = Actor.system("test")
    extra = [make_customer(app, f"98765100{n:02d}", first_name=f"Extra{n}")
             for n, app in enumerate([application, application, other_application, foreign_application,
                                      foreign_application])]
    for customer in (customers["ravi"], extra[0], customers["second"], extra[3]):
        user_services.archive_customer(customer.application, customer.pk, system, reason="test")
    user_services.set_customers_active(application, [extra[1].pk], False, "test", system)
    return {"application": application, "other": other_application, "foreign": foreign_application}


def changelist_counts(client, params):
    """(the changelist's paginator count, the real COUNT(*) of its rows, whether the page ran a COUNT(*))."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(CUSTOMERS, params)
    assert response.status_code == 200, response.content[:500]
    cl = response.context["cl"]
    counted_rows = any("COUNT(*)" in q["sql"] and 'FROM "users_customer"' in q["sql"] for q in queries)
    assert cl.result_count == cl.paginator.count
    return cl.paginator.count, cl.queryset.count(), counted_rows


@pytest.mark.parametrize("who", ["staff", "superuser"])
def test_changelist_count_from_totals_equals_real_count(client, staff, counted, who, monkeypatch):
    from django.contrib import admin as django_admin

    if who == "superuser":
        client.force_login(get_user_model().objects.create_superuser("root", password=PASSWORD))
        visible = Customer.objects.all()
    else:
        client.force_login(staff)
        visible = Customer.objects.filter(application__company_id=559)
    # Several pages, so that paging by the counted total is exercised too.
    monkeypatch.setattr(django_admin.site._registry[Customer], "list_per_page", 2)
    app, other, foreign = (counted[name].pk for name in ("application", "other", "foreign"))

    from_totals = [
        ({}, visible),
        ({"p": "2", "o": "1"}, visible),
        ({"q": "   "}, visible),
        ({"archived__exact": "1"}, visible.filter(archived=True)),
        ({"archived__exact": "0"}, visible.filter(archived=False)),
        ({"archived__exact": ["0", "1"]}, visible),
        ({"application__id__exact": other}, visible.filter(application_id=other)),
        ({"application__id__exact": app, "archived__exact": "1"}, visible.filter(application_id=app, archived=True)),
        ({"application__id__exact": app, "archived__exact": "0"}, visible.filter(application_id=app, archived=False)),
        ({"application__id__exact": [app, foreign]}, visible.filter(application_id__in=[app, foreign])),
        ({"application__id__exact": foreign}, visible.filter(application_id=foreign)),  # staff: none
    ]
    for params, expected in from_totals:
        count, real, counted_rows = changelist_counts(client, params)
        assert count == real == expected.count(), params
        assert not counted_rows, params  # the count came from ApplicationCustomerCount
    assert changelist_counts(client, {})[0] == (9 if who == "superuser" else 6)

    counted_by_rows = [{"active__exact": "0"}, {"q": "extra"}, {"archived__exact": "0", "active__exact": "1"},
                       {"application__id__exact": app, "created_at__gte": "2000-01-01 00:00:00+00:00"}]
    for params in counted_by_rows:
        count, real, counted_rows = changelist_counts(client, params)
        assert count == real, params
        assert counted_rows, params  # a search or another filter: the real COUNT(*)


# --------------------------------------------------------------------------- the read-only staff role


def test_read_only_staff_see_their_company_and_change_nothing(read_only_client, customers):
    asha, foreign = customers["asha"], customers["foreign"]
    listing = read_only_client.get(CUSTOMERS)
    assert listing.status_code == 200 and asha.pk in listed_ids(listing) and foreign.pk not in listed_ids(listing)
    assert b'name="action"' not in listing.content  # no actions to choose from
    page = read_only_client.get(f"{CUSTOMERS}{asha.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert read_only_client.get(f"{CUSTOMERS}{foreign.pk}/change/").status_code in (302, 404)
    run_action(read_only_client, "block_customers", asha)
    run_action(read_only_client, "end_sessions", asha)
    assert Customer.objects.get(pk=asha.pk).active is True
    assert not AuditEvent.objects.filter(customer_id=asha.pk, actor_type="staff").exists()
    for add_page in ("/admin/webhooks/subscription/add/", "/admin/customer_groups/usergroup/add/",
                     "/admin/attributes/attributedefinition/add/"):
        assert read_only_client.get(add_page).status_code == 403, add_page
    for readable in ("/admin/webhooks/subscription/", "/admin/customer_groups/usergroup/",
                     "/admin/attributes/attributedefinition/", "/admin/sessions_app/platformconfig/"):
        assert read_only_client.get(readable).status_code == 200, readable


# --------------------------------------------------------------------------- API clients issued from the console

def _secrets_on(page) -> list[tuple[str, str]]:
    import re

    text = page.content.decode()
    return list(zip(re.findall(r'class="client-id">([^<]+)<', text), re.findall(r'class="client-secret">([^<]+)<', text)))


def test_full_staff_issue_rotate_and_revoke_an_api_client(staff_client, application, foreign_application):
    from core.tenancy.models import ApiClient, hash_secret
    from tests.helpers import bearer_client, request_token

    page = staff_client.post("/admin/core/apiclient/add/", {"name": "CRM sync",
                                                           "scopes": ["application/customers/read"]})
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    [(client_id, secret)] = _secrets_on(page)
    client = ApiClient.objects.get(pk=client_id)
    assert client.company_id == 559 and client.scopes == ["application/customers/read"] and client.is_active
    assert client.secret_hash == hash_secret(secret)
    token = request_token(client_id, secret)
    assert token.status_code == 200, token.content
    customers_list = f"/service/platform/user/v1.0/company/559/application/{application.pk}/customers/list"
    assert bearer_client(token.json()["access_token"]).get(customers_list).status_code == 200
    again = staff_client.get(f"/admin/core/apiclient/{client_id}/change/").content.decode()
    assert secret not in again  # shown once
    listing = staff_client.get("/admin/core/apiclient/")
    assert client_id in listing.content.decode()

    rotated = staff_client.post("/admin/core/apiclient/", {"action": "rotate_secrets", "_selected_action": [client_id]})
    [(same_id, new_secret)] = _secrets_on(rotated)
    assert same_id == client_id and new_secret != secret
    assert bearer_client(token.json()["access_token"]).get(customers_list).status_code == 401
    assert request_token(client_id, secret).status_code == 401
    fresh = request_token(client_id, new_secret)
    assert fresh.status_code == 200

    narrowed = staff_client.post(f"/admin/core/apiclient/{client_id}/change/",
                                 {"name": "CRM sync", "scopes": ["application/customers/write"]})
    assert narrowed.status_code == 302
    assert bearer_client(fresh.json()["access_token"]).get(customers_list).status_code == 401  # a scope taken away

    revoked = staff_client.post("/admin/core/apiclient/", {"action": "revoke_clients", "_selected_action": [client_id]},
                                follow=True)
    assert "Revoked 1 API client" in revoked.content.decode()
    assert request_token(client_id, new_secret).status_code == 401
    assert ApiClient.objects.get(pk=client_id).is_active is False


def test_staff_cannot_reach_another_companys_client_or_pick_a_company(staff_client, application, foreign_application):
    from core.tenancy.models import ApiClient

    foreign, _ = core_services.create_api_client(company_id=777, name="Foreign integration")
    staff_client.post("/admin/core/apiclient/", {"action": "rotate_secrets", "_selected_action": [foreign.pk]})
    staff_client.post("/admin/core/apiclient/", {"action": "revoke_clients", "_selected_action": [foreign.pk]})
    assert ApiClient.objects.get(pk=foreign.pk).secret_hash == foreign.secret_hash and foreign.is_active
    page = staff_client.post("/admin/core/apiclient/add/", {"name": "Sneaky", "company": "777",
                                                           "scopes": ["application/customers/read"]})
    [(client_id, _)] = _secrets_on(page)
    assert ApiClient.objects.get(pk=client_id).company_id == 559  # staff issue for their own company only


def test_read_only_staff_cannot_issue_rotate_or_revoke(read_only_client, application):
    from core.tenancy.models import ApiClient

    own, _ = core_services.create_api_client(company_id=559, name="Integration")
    assert read_only_client.get("/admin/core/apiclient/add/").status_code == 403
    listing = read_only_client.get("/admin/core/apiclient/")
    assert listing.status_code == 200 and own.pk in listing.content.decode() and b'name="action"' not in listing.content
    read_only_client.post("/admin/core/apiclient/", {"action": "rotate_secrets", "_selected_action": [own.pk]})
    read_only_client.post("/admin/core/apiclient/", {"action": "revoke_clients", "_selected_action": [own.pk]})
    current = ApiClient.objects.get(pk=own.pk)
    assert current.secret_hash == own.secret_hash and current.is_active


def test_full_staff_rotate_their_storefront_token_once(staff_client, application, foreign_application):
    import re

    from core.tenancy.models import Application, hash_secret

    page = staff_client.post("/admin/core/application/", {"action": "rotate_tokens",
                                                         "_selected_action": [application.pk, foreign_application.pk]})
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    text = page.content.decode()
    [shown_id] = re.findall(r'class="application-id">([^<]+)<', text)
    [token] = re.findall(r'class="application-token">([^<]+)<', text)
    assert shown_id == application.pk  # another company's application is not theirs to rotate
    assert Application.objects.get(pk=application.pk).token_hash == hash_secret(token)
    assert Application.objects.get(pk=foreign_application.pk).token_hash == foreign_application.token_hash
    assert token not in staff_client.get(f"/admin/core/application/{application.pk}/change/").content.decode()


def test_read_only_staff_cannot_rotate_a_storefront_token(read_only_client, application):
    from core.tenancy.models import Application

    listing = read_only_client.get("/admin/core/application/")
    assert listing.status_code == 200 and b'name="action"' not in listing.content
    read_only_client.post("/admin/core/application/", {"action": "rotate_tokens", "_selected_action": [application.pk]})
    assert Application.objects.get(pk=application.pk).token_hash == application.token_hash


# --------------------------------------------------------------------------- adding a customer in the console

def test_full_staff_add_a_customer_with_the_apis_rules(staff_client, application, foreign_application):
    form = staff_client.get(f"{CUSTOMERS}add/")
    assert form.status_code == 200 and foreign_application.pk not in form.content.decode()
    created = staff_client.post(f"{CUSTOMERS}add/", {"application": application.pk, "phone_number": "9876500011",
                                                     "country_code": "91", "email": "Meera@Example.com",
                                                     "first_name": "Meera"})
    customer = Customer.objects.get(application=application, first_name="Meera")
    assert created.status_code == 302 and created["Location"].endswith(f"/users/customer/{customer.pk}/change/")
    assert [e.email for e in customer.emails.all()] == ["meera@example.com"]
    assert [p.e164 for p in customer.phones.all()] == ["+919876500011"]
    event = AuditEvent.objects.get(customer_id=customer.pk, action="customer.created")
    assert event.actor_type == "staff" and event.actor_name == "staff559"

    taken = staff_client.post(f"{CUSTOMERS}add/", {"application": application.pk, "phone_number": "9876500012",
                                                   "country_code": "91", "email": "meera@example.com"})
    assert taken.status_code == 200 and "meera@example.com" in taken.content.decode()
    assert 'class="errornote"' in taken.content.decode()
    bad_phone = staff_client.post(f"{CUSTOMERS}add/", {"application": application.pk, "phone_number": "12"})
    assert bad_phone.status_code == 200 and "errorlist" in bad_phone.content.decode()
    foreign = staff_client.post(f"{CUSTOMERS}add/", {"application": foreign_application.pk,
                                                     "phone_number": "9876500013", "country_code": "91"})
    assert foreign.status_code == 200 and "Select a valid choice" in foreign.content.decode()
    assert Customer.objects.filter(application__in=[application, foreign_application]).count() == 1


def test_read_only_staff_cannot_add_a_customer(read_only_client, application):
    assert read_only_client.get(f"{CUSTOMERS}add/").status_code == 403
    assert read_only_client.post(f"{CUSTOMERS}add/", {"application": application.pk,
                                                      "phone_number": "9876500014"}).status_code == 403
    assert not Customer.objects.filter(application=application).exists()


def test_full_staff_edit_a_customers_profile_emails_and_phones(staff_client, customers):
    asha, ravi = customers["asha"], customers["ravi"]
    page = staff_client.get(f"{CUSTOMERS}{asha.pk}/change/").content.decode()
    assert f"/users/customer/{asha.pk}/edit/" in page
    form = staff_client.get(f"{CUSTOMERS}{asha.pk}/edit/")
    assert form.status_code == 200 and "asha@example.com" in form.content.decode()
    CustomerEmailModel = asha.emails.model
    CustomerEmailModel.objects.filter(customer=asha, email="asha@example.com").update(verified=True)

    saved = staff_client.post(f"{CUSTOMERS}{asha.pk}/edit/", {
        "first_name": "Asha", "last_name": "Iyer", "emails": "asha.iyer@example.com\nasha@example.com",
        "phones": "+919876500001\n+919876500099"})
    assert saved.status_code == 302, saved.content.decode()[:3000]
    asha.refresh_from_db()
    assert asha.last_name == "Iyer"
    emails = {e.email: (e.primary, e.verified) for e in asha.emails.all()}
    assert emails == {"asha.iyer@example.com": (True, False), "asha@example.com": (False, True)}
    assert sorted(p.e164 for p in asha.phones.all()) == ["+919876500001", "+919876500099"]
    event = AuditEvent.objects.filter(customer_id=asha.pk, action="customer.updated").latest("id")
    assert event.actor_type == "staff" and event.actor_name == "staff559"

    ravi_phone = ravi.phones.first().e164
    taken = staff_client.post(f"{CUSTOMERS}{asha.pk}/edit/", {"first_name": "Asha", "emails": "",
                                                             "phones": ravi_phone})
    assert taken.status_code == 200 and 'class="errornote"' in taken.content.decode()
    bad = staff_client.post(f"{CUSTOMERS}{asha.pk}/edit/", {"first_name": "Asha", "phones": "12"})
    assert bad.status_code == 200 and "errorlist" in bad.content.decode()
    asha.refresh_from_db()
    assert sorted(p.e164 for p in asha.phones.all()) == ["+919876500001", "+919876500099"]


def test_edits_stay_in_the_company(staff_client, customers):
    foreign = customers["foreign"]
    assert staff_client.get(f"{CUSTOMERS}{foreign.pk}/edit/").status_code == 404
    assert staff_client.post(f"{CUSTOMERS}{foreign.pk}/edit/", {"first_name": "X", "phones": "+919876500077"}
                             ).status_code == 404
    foreign.refresh_from_db()
    assert foreign.first_name != "X"


def test_read_only_staff_cannot_edit(read_only_client, customers):
    asha = customers["asha"]
    assert read_only_client.get(f"{CUSTOMERS}{asha.pk}/edit/").status_code == 403
    assert f"/users/customer/{asha.pk}/edit/" not in read_only_client.get(f"{CUSTOMERS}{asha.pk}/change/").content.decode()
