"""getUserTimeline: the customer's audit events as {delete_on, timeline: [{date, title, type, visible, sub_title}]}."""

import re

from attributes import services as attribute_services
from core.actors import Actor
from core.tenancy.models import SCOPE_CUSTOMERS_READ, SCOPE_CUSTOMERS_WRITE
from sessions_app import services as session_services
from tests.helpers import assert_error

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_the_timeline_tells_what_happened_newest_first(api, url, create_customer, application):
    user = create_customer(email="asha@example.com", first_name="Asha")
    uid = user["_id"]
    assert api.put(url(f"customers/{uid}"), {"last_name": "Rao"}, format="json").status_code == 200
    assert api.put(url("customers/activation"), {"status": False, "user_id": [uid], "reason": "chargeback"},
                   format="json").status_code == 200
    assert api.put(url("customers/activation"), {"status": True, "user_id": [uid], "reason": "resolved"},
                   format="json").status_code == 200
    actor = Actor.system("tests")
    session_services.create_session(application, uid, actor=actor)
    session_services.end_all_sessions(application, uid, "security", actor)
    tier = attribute_services.create_definition(application, {"name": "Tier", "type": "string"}, actor)
    attribute_services.set_value(application, tier.id, uid, "gold", actor)

    data = api.get(url(f"customers/{uid}/timeline")).json()
    assert data["delete_on"] == ""
    items = data["timeline"]
    assert [i["type"] for i in items] == ["attribute.updated", "sessions.deleted", "session.created",
                                          "customer.unblocked", "customer.blocked", "customer.updated",
                                          "customer.created"]
    for item in items:
        assert set(item) == {"date", "title", "type", "visible", "sub_title"} and ISO.match(item["date"])
        assert isinstance(item["title"], str) and item["title"] and isinstance(item["sub_title"], str)
    by_type = {i["type"]: i for i in items}
    assert by_type["customer.blocked"]["title"] == "Blocked"
    assert "reason: chargeback" in by_type["customer.blocked"]["sub_title"]
    assert "by test client" in by_type["customer.blocked"]["sub_title"]
    assert "changed: last_name" in by_type["customer.updated"]["sub_title"]
    assert "tier = gold" in by_type["attribute.updated"]["sub_title"]
    assert "reason: security" in by_type["sessions.deleted"]["sub_title"]
    assert by_type["session.created"]["visible"] is False and by_type["customer.created"]["visible"] is True


def test_an_archived_customer_shows_when_it_will_be_purged_and_a_restore(api, url, create_customer):
    uid = create_customer()["_id"]
    assert api.put(url("customers/archive"), {"user_id": uid, "reason": "asked to"}, format="json").status_code == 200
    data = api.get(url(f"customers/{uid}/timeline")).json()
    restore_until = api.get(url("customers/list"), {"archived": "true"}).json()["items"][0]["restore_until"]
    assert data["delete_on"] == restore_until and ISO.match(data["delete_on"])
    archived = data["timeline"][0]
    assert archived["type"] == "customer.archived" and restore_until[:10] in archived["sub_title"]
    assert api.put(url("customers/undelete"), {"user_id": uid, "reason": "came back"},
                   format="json").status_code == 200
    data = api.get(url(f"customers/{uid}/timeline")).json()
    assert data["delete_on"] == "" and data["timeline"][0]["title"] == "Restored"
    assert "reason: came back" in data["timeline"][0]["sub_title"]


def test_timeline_scopes_and_unknown_customers(make_client, api, url, create_customer, other_application):
    uid = create_customer()["_id"]
    reader = make_client(scopes=[SCOPE_CUSTOMERS_READ])
    assert reader.get(url(f"customers/{uid}/timeline")).status_code == 200
    assert_error(api.get(url("customers/0123456789abcdef01234567/timeline")), 404)
    assert_error(api.get(url(f"customers/{uid}/timeline", application_id=other_application.id)), 404)
    assert_error(api.get(url("customers/nope/timeline")), 400, "user_id")
    assert_error(make_client(scopes=[SCOPE_CUSTOMERS_WRITE]).get(url(f"customers/{uid}/timeline")), 403, "scope")


def test_the_customer_admin_page_shows_the_timeline(admin_client, api, url, create_customer):
    uid = create_customer(first_name="Asha")["_id"]
    api.put(url("customers/activation"), {"status": False, "user_id": [uid], "reason": "chargeback"}, format="json")
    page = admin_client.get(f"/admin/users/customer/{uid}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Timeline" in html and "Blocked" in html and "chargeback" in html and "Customer created" in html
