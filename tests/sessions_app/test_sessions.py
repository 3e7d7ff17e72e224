"""Customer sessions: the platform API (createUserSession, getActiveSessions, deleteSession,
deleteActiveSessions), the Redis store, block / archive ending sessions, and the storefront side
(getLoggedInUser, getListOfActiveSessions, logout) as the SDK's ApplicationClient calls it."""

import base64
import time

import pytest
from rest_framework.test import APIClient

from core.tenancy import services as core_services
from core.tenancy.models import SCOPE_CUSTOMERS_READ, SCOPE_CUSTOMERS_WRITE
from sessions_app import store
from tests.helpers import APP_ID, COMPANY_ID
from tests.helpers import assert_error
from users.models import AuditEvent

STOREFRONT = "/service/application/user/authentication/v1.0/"


@pytest.fixture
def customer(create_customer):
    return create_customer(email="asha@example.com", first_name="Asha")


@pytest.fixture
def new_session(api, url):
    def create(user_id, **body):
        body = {"user_id": user_id, "domain": "shop.example.com", **body}
        response = api.post(url("customers/session"), body, format="json", HTTP_USER_AGENT="pytest-agent")
        assert response.status_code == 200, response.content
        return response.json()

    return create


def cookie_of(created: dict) -> str:
    return created["cookie"]["f.session"]


def session_id_of(created: dict) -> str:
    return store.unsign(cookie_of(created))


def storefront(application, cookie: str | None = None, token: str | None = None) -> APIClient:
    client = APIClient()
    raw = f"{application.id}:{token or application.storefront_token}"
    client.credentials(HTTP_AUTHORIZATION="Bearer " + base64.b64encode(raw.encode()).decode())
    if cookie is not None:
        client.cookies[store.COOKIE_NAME] = cookie
    return client


# =========================================================================== createUserSession


def test_create_session_answers_the_sdk_shape_and_stores_it_in_redis(new_session, customer, application):
    created = new_session(customer["_id"], max_age=3600)
    assert created["domain"] == "shop.example.com"
    assert created["max_age"] == 3600
    assert created["secure"] is True and created["http_only"] is True
    assert set(created["cookie"]) == {"f.session"}
    session_id = session_id_of(created)
    assert session_id and len(session_id) >= 43  # 256 bits, urlsafe base64
    assert 3590 <= store.ttl(session_id) <= 3600
    session = store.get(session_id)
    assert session.customer_id == customer["_id"] and session.application_id == application.id
    assert session.user_agent == "pytest-agent"
    event = AuditEvent.objects.get(customer_id=customer["_id"], action="session.created")
    assert event.data["session_id"] == session_id


def test_create_session_without_max_age_uses_the_application_lifetime(api, url, new_session, customer):
    response = api.post(url("platform/config"), {"session_config": {"duration": 2, "type": "Hours"}}, format="json")
    assert response.status_code == 200, response.content
    created = new_session(customer["_id"])
    assert created["max_age"] == 7200
    assert 7190 <= store.ttl(session_id_of(created)) <= 7200


def test_default_lifetime_is_thirty_days(new_session, customer):
    created = new_session(customer["_id"])
    assert created["max_age"] == 30 * 24 * 3600


def test_session_ids_are_unique(new_session, customer):
    ids = {session_id_of(new_session(customer["_id"])) for _ in range(5)}
    assert len(ids) == 5


def test_blocked_customer_gets_no_session(api, url, customer):
    response = api.put(url("customers/activation"), {"status": False, "user_id": [customer["_id"]],
                                                     "reason": "fraud"}, format="json")
    assert response.status_code == 200
    response = api.post(url("customers/session"), {"user_id": customer["_id"], "domain": "x"}, format="json")
    assert_error(response, 409, "blocked", code="user_blocked")


def test_archived_customer_gets_no_session(api, url, customer):
    assert api.put(url("customers/archive"), {"user_id": customer["_id"]}, format="json").status_code == 200
    response = api.post(url("customers/session"), {"user_id": customer["_id"], "domain": "x"}, format="json")
    assert_error(response, 409, "archived", code="user_archived")


def test_unknown_customer_is_404(api, url):
    response = api.post(url("customers/session"), {"user_id": "0" * 24, "domain": "x"}, format="json")
    assert_error(response, 404, code="user_not_found")


@pytest.mark.parametrize("body, fragment", [
    ({"domain": "x"}, "user_id"),
    ({"user_id": 5, "domain": "x"}, "user_id"),
    ({"user_id": "0" * 24, "domain": "x", "max_age": 0}, "max_age"),
    ({"user_id": "0" * 24, "domain": "x", "max_age": "3600"}, "max_age"),
    ({"user_id": "0" * 24, "domain": "x", "max_age": True}, "max_age"),
    ({"user_id": "0" * 24, "domain": 3}, "domain"),
])
def test_create_session_bad_input_is_400(api, url, body, fragment):
    assert_error(api.post(url("customers/session"), body, format="json"), 400, fragment)


# =========================================================================== list / delete


def test_list_sessions(api, url, new_session, customer, create_customer):
    first = session_id_of(new_session(customer["_id"], max_age=600))
    second = session_id_of(new_session(customer["_id"], max_age=1200, domain="m.example.com"))
    other = create_customer()
    new_session(other["_id"])
    response = api.get(url("customers/sessions"), {"id": customer["_id"]})
    assert response.status_code == 200
    items = response.json()["items"]
    assert [i["session_id"] for i in items] == [first, second]
    for item in items:
        assert set(item) >= {"session_id", "user_agent", "ip", "domain", "expire_in", "location"}
        assert all(isinstance(v, str) for v in item.values())
    assert 590 <= int(items[0]["expire_in"]) <= 600
    assert items[1]["domain"] == "m.example.com"
    assert items[0]["ip"] == "127.0.0.1" and items[0]["user_agent"] == "pytest-agent"


def test_list_sessions_of_a_customer_without_any(api, url, customer):
    response = api.get(url("customers/sessions"), {"id": customer["_id"]})
    assert response.status_code == 200 and response.json() == {"items": []}


def test_expired_sessions_are_not_listed(api, url, new_session, customer):
    gone = session_id_of(new_session(customer["_id"], max_age=600))
    kept = session_id_of(new_session(customer["_id"], max_age=600))
    store.connection().delete(store.session_key(gone))  # as Redis does when the TTL runs out
    response = api.get(url("customers/sessions"), {"id": customer["_id"]})
    assert [i["session_id"] for i in response.json()["items"]] == [kept]


def test_delete_one_session_with_its_reason(api, url, new_session, customer):
    first = session_id_of(new_session(customer["_id"]))
    second = session_id_of(new_session(customer["_id"]))
    response = api.delete(url("customers/session") + f"?id={customer['_id']}&session_id={first}&reason=lost+phone")
    assert response.status_code == 200, response.content
    assert response.json() == {"user_id": customer["_id"], "session_id": first}
    assert store.get(first) is None and store.get(second) is not None
    event = AuditEvent.objects.get(customer_id=customer["_id"], action="session.deleted")
    assert event.reason == "lost phone" and event.data == {"session_id": first}
    assert event.actor_type == "api_client"
    again = api.delete(url("customers/session") + f"?id={customer['_id']}&session_id={first}&reason=again")
    assert_error(again, 404, code="session_not_found")


def test_delete_all_sessions_with_its_reason(api, url, new_session, customer):
    ids = sorted(session_id_of(new_session(customer["_id"])) for _ in range(3))
    response = api.delete(url("customers/sessions") + f"?id={customer['_id']}&reason=password+changed")
    assert response.status_code == 200
    body = response.json()
    assert body["user_id"] == customer["_id"] and sorted(body["session_ids"]) == ids
    assert all(store.get(i) is None for i in ids)
    event = AuditEvent.objects.get(customer_id=customer["_id"], action="sessions.deleted")
    assert event.reason == "password changed" and sorted(event.data["session_ids"]) == ids
    assert api.get(url("customers/sessions"), {"id": customer["_id"]}).json() == {"items": []}
    empty = api.delete(url("customers/sessions") + f"?id={customer['_id']}&reason=again")
    assert empty.status_code == 200 and empty.json()["session_ids"] == []


def test_a_session_of_another_customer_cannot_be_deleted(api, url, new_session, customer, create_customer):
    other = create_customer()
    theirs = session_id_of(new_session(other["_id"]))
    response = api.delete(url("customers/session") + f"?id={customer['_id']}&session_id={theirs}&reason=x")
    assert_error(response, 404, code="session_not_found")
    assert store.get(theirs) is not None


@pytest.mark.parametrize("method, suffix, query", [
    ("get", "customers/sessions", "id={unknown}"),
    ("delete", "customers/sessions", "id={unknown}&reason=x"),
    ("delete", "customers/session", "id={unknown}&session_id=abc&reason=x"),
])
def test_unknown_customer_is_a_404(api, url, method, suffix, query):
    response = getattr(api, method)(url(suffix) + "?" + query.format(unknown="0" * 24))
    assert_error(response, 404, code="user_not_found")


@pytest.mark.parametrize("method, suffix, query, missing", [
    ("get", "customers/sessions", "", "id"),
    ("delete", "customers/sessions", "id={cid}", "reason"),
    ("delete", "customers/sessions", "id={cid}&reason=", "reason"),
    ("delete", "customers/session", "id={cid}&reason=x", "session_id"),
    ("delete", "customers/session", "id={cid}&session_id=abc", "reason"),
])
def test_missing_query_parameters_are_400(api, url, customer, method, suffix, query, missing):
    response = getattr(api, method)(url(suffix) + "?" + query.format(cid=customer["_id"]))
    assert_error(response, 400, missing)


# =========================================================================== scopes and tenancy


def test_reads_need_customers_read_and_writes_customers_write(make_client, url, customer, new_session):
    session_id = session_id_of(new_session(customer["_id"]))
    reader = make_client(scopes=[SCOPE_CUSTOMERS_READ])
    writer = make_client(scopes=[SCOPE_CUSTOMERS_WRITE])
    assert reader.get(url("customers/sessions"), {"id": customer["_id"]}).status_code == 200
    assert_error(writer.get(url("customers/sessions"), {"id": customer["_id"]}), 403, "customers/read")
    assert_error(reader.post(url("customers/session"), {"user_id": customer["_id"], "domain": "x"}, format="json"),
                 403, "customers/write")
    assert_error(reader.delete(url("customers/sessions") + f"?id={customer['_id']}&reason=x"), 403)
    assert_error(reader.delete(url("customers/session") + f"?id={customer['_id']}&session_id={session_id}&reason=x"),
                 403)
    assert store.get(session_id) is not None
    assert writer.post(url("customers/session"), {"user_id": customer["_id"], "domain": "x"},
                       format="json").status_code == 200


def test_no_token_is_401(url, customer):
    assert_error(APIClient().get(url("customers/sessions"), {"id": customer["_id"]}), 401)


def test_sessions_do_not_leak_across_applications(api, url, new_session, customer, other_application,
                                                  foreign_application, make_client):
    session_id = session_id_of(new_session(customer["_id"]))
    other = url("customers/sessions", application_id=other_application.id)
    assert_error(api.get(other, {"id": customer["_id"]}), 404, code="user_not_found")
    assert_error(api.delete(other + f"?id={customer['_id']}&reason=x"), 404)
    assert_error(api.post(url("customers/session", application_id=other_application.id),
                          {"user_id": customer["_id"], "domain": "x"}, format="json"), 404)
    foreign = make_client(company_id=777)
    assert_error(foreign.get(url("customers/sessions"), {"id": customer["_id"]}), 403)
    assert_error(foreign.get(url("customers/sessions", company_id=777), {"id": customer["_id"]}), 404)
    assert store.get(session_id) is not None


# =========================================================================== block / archive end sessions


def test_blocking_ends_all_sessions(api, url, new_session, customer, create_customer,
                                    django_capture_on_commit_callbacks):
    ids = [session_id_of(new_session(customer["_id"])) for _ in range(2)]
    bystander = session_id_of(new_session(create_customer()["_id"]))
    with django_capture_on_commit_callbacks(execute=True):
        response = api.put(url("customers/activation"), {"status": False, "user_id": [customer["_id"]],
                                                         "reason": "chargeback"}, format="json")
    assert response.status_code == 200
    assert all(store.get(i) is None for i in ids)
    assert store.get(bystander) is not None
    event = AuditEvent.objects.get(customer_id=customer["_id"], action="sessions.deleted")
    assert event.reason == "chargeback" and sorted(event.data["session_ids"]) == sorted(ids)


def test_archiving_ends_all_sessions(api, url, new_session, customer, django_capture_on_commit_callbacks):
    session_id = session_id_of(new_session(customer["_id"]))
    with django_capture_on_commit_callbacks(execute=True):
        response = api.put(url("customers/archive"), {"user_id": customer["_id"], "reason": "asked"}, format="json")
    assert response.status_code == 200
    assert store.get(session_id) is None
    assert AuditEvent.objects.filter(customer_id=customer["_id"], action="sessions.deleted").exists()


def test_unblocking_keeps_sessions(api, url, new_session, customer, django_capture_on_commit_callbacks):
    session_id = session_id_of(new_session(customer["_id"]))
    with django_capture_on_commit_callbacks(execute=True):
        api.put(url("customers/activation"), {"status": True, "user_id": [customer["_id"]], "reason": "ok"},
                format="json")
    assert store.get(session_id) is not None


# =========================================================================== storefront


def test_get_logged_in_user_with_the_cookie(application, new_session, customer):
    created = new_session(customer["_id"])
    response = storefront(application, cookie_of(created)).get(STOREFRONT + "session")
    assert response.status_code == 200, response.content
    user = response.json()["user"]
    assert user["_id"] == customer["_id"] and user["first_name"] == "Asha"
    assert user["emails"][0]["email"] == "asha@example.com"
    assert response["Cache-Control"] == "no-store"


def test_storefront_lists_the_customers_sessions(application, new_session, customer):
    ids = sorted(session_id_of(new_session(customer["_id"])) for _ in range(2))
    response = storefront(application, store.sign(ids[0])).get(STOREFRONT + "sessions")
    assert response.status_code == 200
    assert sorted(response.json()["sessions"]) == ids


def test_logout_ends_the_session(application, new_session, customer):
    created = new_session(customer["_id"])
    client = storefront(application, cookie_of(created))
    response = client.get(STOREFRONT + "logout")
    assert response.status_code == 200 and response.json() == {"logout": True}
    assert response.cookies[store.COOKIE_NAME]["max-age"] == 0
    assert store.get(session_id_of(created)) is None
    event = AuditEvent.objects.get(customer_id=customer["_id"], action="session.deleted")
    assert event.reason == "logout" and event.actor_type == "customer"
    assert_error(storefront(application, cookie_of(created)).get(STOREFRONT + "session"), 401)


def test_expired_session_is_401(application, new_session, customer):
    created = new_session(customer["_id"], max_age=1)
    store.connection().pexpire(store.session_key(session_id_of(created)), 1)
    time.sleep(0.01)
    body = assert_error(storefront(application, cookie_of(created)).get(STOREFRONT + "session"), 401, "expired")
    assert body["authenticated"] is False


def test_session_past_its_expiry_is_refused_even_before_redis_drops_it(application, new_session, customer):
    created = new_session(customer["_id"], max_age=60)
    store.connection().hset(store.session_key(session_id_of(created)), "expires_at", repr(time.time() - 1))
    assert_error(storefront(application, cookie_of(created)).get(STOREFRONT + "session"), 401)


@pytest.mark.parametrize("forge", [
    lambda cookie: cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"),
    lambda cookie: cookie.split(":")[0],
    lambda cookie: "x" * 300,
    lambda cookie: store.sign("not-a-session"),
])
def test_forged_or_unknown_cookie_is_401(application, new_session, customer, forge):
    cookie = cookie_of(new_session(customer["_id"]))
    assert_error(storefront(application, forge(cookie)).get(STOREFRONT + "session"), 401)


def test_no_cookie_is_401(application):
    assert_error(storefront(application).get(STOREFRONT + "session"), 401, "session")


@pytest.mark.parametrize("authorization", [
    None, "Bearer", "Bearer !!!", "Basic abc",
    "Bearer " + base64.b64encode(f"{APP_ID}:wrong-token".encode()).decode(),
    "Bearer " + base64.b64encode(b"nocolon").decode(),
])
def test_bad_application_credentials_are_401(application, new_session, customer, authorization):
    client = APIClient()
    client.cookies[store.COOKIE_NAME] = cookie_of(new_session(customer["_id"]))
    if authorization:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    assert_error(client.get(STOREFRONT + "session"), 401)


def test_a_cookie_of_another_application_is_401(application, new_session, customer):
    other, token = core_services.create_application(company_id=COMPANY_ID, name="Other")
    other.storefront_token = token
    cookie = cookie_of(new_session(customer["_id"]))
    assert_error(storefront(other, cookie).get(STOREFRONT + "session"), 401)


def test_blocked_customer_is_401_even_if_a_session_survived(api, url, application, new_session, customer):
    cookie = cookie_of(new_session(customer["_id"]))
    # No on-commit callbacks run here, so the session stays in Redis: the storefront must still refuse it.
    api.put(url("customers/activation"), {"status": False, "user_id": [customer["_id"]], "reason": "fraud"},
            format="json")
    assert store.get(store.unsign(cookie)) is not None
    assert_error(storefront(application, cookie).get(STOREFRONT + "session"), 401, "blocked")


def test_archived_customer_is_401(api, url, application, new_session, customer):
    cookie = cookie_of(new_session(customer["_id"]))
    api.put(url("customers/archive"), {"user_id": customer["_id"]}, format="json")
    assert_error(storefront(application, cookie).get(STOREFRONT + "session"), 401)


def test_rolling_session_is_renewed_on_each_request(api, url, application, new_session, customer):
    response = api.post(url("platform/config"), {"session_config": {"is_rolling": True}}, format="json")
    assert response.status_code == 200, response.content
    created = new_session(customer["_id"], max_age=600)
    session_id = session_id_of(created)
    store.connection().expire(store.session_key(session_id), 100)
    store.connection().hset(store.session_key(session_id), "expires_at", repr(time.time() + 100))
    assert storefront(application, cookie_of(created)).get(STOREFRONT + "session").status_code == 200
    assert store.ttl(session_id) > 590
    assert store.get(session_id).expire_in > 590
    index_score = store.connection().zscore(store.index_key(application.id, customer["_id"]), session_id)
    assert index_score > time.time() + 590


def test_non_rolling_session_is_not_renewed(application, new_session, customer):
    created = new_session(customer["_id"], max_age=600)
    session_id = session_id_of(created)
    store.connection().expire(store.session_key(session_id), 100)
    assert storefront(application, cookie_of(created)).get(STOREFRONT + "session").status_code == 200
    assert store.ttl(session_id) <= 100


def test_block_succeeds_even_when_redis_is_down(api, url, customer, monkeypatch, django_capture_on_commit_callbacks):
    import redis

    def down(*args, **kwargs):
        raise redis.ConnectionError("down")

    monkeypatch.setattr(store, "delete_all", down)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.put(url("customers/activation"), {"status": False, "user_id": [customer["_id"]],
                                                         "reason": "fraud"}, format="json")
    assert response.status_code == 200
    assert api.get(url(f"customers/{customer['_id']}")).json()["user"]["active"] is False
