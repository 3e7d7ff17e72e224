"""Webhook subscriptions and deliveries in the admin console (webhooks/admin.py), at parity with the API:
create (the secret shown once), edit, rotate the secret (shown once, the old one signing for the grace
period), the delivery log and "Redeliver selected deliveries"; read-only staff and another company's staff.
Deliveries go to a real local HTTP receiver and are verified with the ``standardwebhooks`` library."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from core.actors import Actor
from core.tenancy import services as core_services
from tests.conftest import STAFF_PASSWORD
from tests.http_receiver import http_receiver
from users import eventlog, events
from users.models import AuditEvent
from users.services import record_event
from webhooks import delivery, secrets, services
from webhooks.models import Delivery, Subscription

ACTOR = Actor.system("tests")
SUBSCRIPTIONS = "/admin/webhooks/subscription/"
DELIVERIES = "/admin/webhooks/delivery/"


@pytest.fixture(autouse=True)
def local_receivers(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["localhost"]
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS = 1


@pytest.fixture
def foreign_staff_client(client, foreign_application):
    """Full staff of company 777 (foreign_application's)."""
    staff = core_services.create_staff_user(company_id=777, username="staff777", password=STAFF_PASSWORD)
    client.force_login(staff)
    return client


def _subscription(application, url="http://localhost:9/hooks", **fields):
    return services.create_subscription(application, {"url": url, **fields}, ACTOR)


def _shown(page) -> list[tuple[str, str]]:
    """(subscription id, signing secret) of each row of a shown-once page."""
    text = page.content.decode()
    return list(zip(re.findall(r'class="subscription-id">([^<]+)<', text),
                    re.findall(r'class="signing-secret">([^<]+)<', text)))


def _form_errors(response) -> dict:
    """The add / change form's errors: {field or "__all__": [messages]}; the page was shown again (200)."""
    assert response.status_code == 200, (response.status_code, response.content[:300])
    return {name: list(problems) for name, problems in response.context["adminform"].form.errors.items()}


def _event(application, action=events.CUSTOMER_CREATED) -> AuditEvent:
    """A numbered event of the application (as the event log makes them)."""
    record_event("a" * 24, application.id, action, ACTOR)
    eventlog.sequence_all()
    return AuditEvent.objects.filter(application_id=application.id).order_by("-id").first()


def _verified(request, secret) -> dict:
    headers = {name: request.headers[name] for name in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    return Webhook(secret).verify(request.body, headers)


def _action(client, changelist, action, *objects, follow=False):
    return client.post(changelist, {"action": action, "_selected_action": [o.pk for o in objects]}, follow=follow)


def _change_data(subscription, **changes) -> dict:
    data = {"url": subscription.url, "event_types": list(subscription.event_types),
            "description": subscription.description, **changes}
    active = data.pop("active", subscription.active)
    if active:
        data["active"] = "on"
    return data


# --------------------------------------------------------------------------- create

def test_full_staff_create_a_subscription_and_see_its_secret_once(staff_client, application, other_application,
                                                                  foreign_application):
    form = staff_client.get(f"{SUBSCRIPTIONS}add/")
    assert form.status_code == 200
    choices = {a.name for a in form.context["adminform"].form.fields["application"].queryset}
    assert choices == {"Demo Store", "Second Store"}  # the staff's company's applications only
    assert "Foreign Store" not in form.content.decode()

    with http_receiver([200]) as receiver:
        page = staff_client.post(f"{SUBSCRIPTIONS}add/", {
            "application": application.pk, "url": receiver.url + "/hooks", "event_types": ["customer.created"],
            "description": "CRM", "active": "on"})
        assert page.status_code == 200 and "no-store" in page["Cache-Control"]
        [(subscription_id, secret)] = _shown(page)
        assert secret.startswith("whsec_") and "shown on this page only" in page.content.decode()
        subscription = Subscription.objects.get(pk=subscription_id)
        assert (subscription.application_id, subscription.url, subscription.event_types, subscription.description,
                subscription.active) == (application.pk, receiver.url + "/hooks", ["customer.created"], "CRM", True)
        assert subscription.created_by == "staff559"

        event = _event(application)
        _event(application, events.CUSTOMER_BLOCKED)  # a type it did not ask for
        assert delivery.deliver_due(subscription_id) == 1
    [request] = receiver.requests
    assert _verified(request, secret)["id"] == event.event_id == request.headers["webhook-id"]

    # never again: not on its page, not in the list, not in its history
    for path in (f"{SUBSCRIPTIONS}{subscription_id}/change/", SUBSCRIPTIONS, f"{SUBSCRIPTIONS}{subscription_id}/history/"):
        shown = staff_client.get(path)
        assert shown.status_code == 200 and secret not in shown.content.decode(), path
        assert subscription.secret_ciphertext not in shown.content.decode()


def test_created_paused_with_every_event_type(staff_client, application):
    page = staff_client.post(f"{SUBSCRIPTIONS}add/", {"application": application.pk, "url": "http://localhost:9/all"})
    [(subscription_id, secret)] = _shown(page)
    subscription = Subscription.objects.get(pk=subscription_id)
    assert subscription.event_types == [] and subscription.active is False and subscription.description == ""
    assert secrets.unseal(subscription.secret_ciphertext) == secret


@pytest.mark.parametrize("fields, field, fragment", [
    ({"url": "ftp://example.com/hooks"}, "__all__", "url must be an http or https URL"),
    ({"url": "not a url"}, "__all__", "url"),
    ({"url": "http://localhost:9/h", "event_types": ["customer.created", "nope"]}, "event_types", "nope"),
    ({"url": ""}, "url", "required"),
    ({"url": "http://localhost:9/" + "a" * 2000}, "url", "at most 2000"),
    ({"url": "http://localhost:9/h", "description": "d" * 501}, "description", "at most 500"),
])
def test_the_create_form_shows_the_apis_errors(staff_client, application, fields, field, fragment):
    response = staff_client.post(f"{SUBSCRIPTIONS}add/", {"application": application.pk, "active": "on", **fields})
    errors = _form_errors(response)
    assert any(fragment.lower() in message.lower() for message in errors.get(field, [])), errors
    assert not Subscription.objects.exists()


def test_private_addresses_are_refused_on_the_form(staff_client, application, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    for url in ("http://127.0.0.1:9/hooks", "http://localhost:9/hooks", "http://169.254.169.254/latest",
                "http://10.0.0.1/hooks"):
        response = staff_client.post(f"{SUBSCRIPTIONS}add/", {"application": application.pk, "url": url})
        assert "private address" in " ".join(_form_errors(response)["__all__"]), url
        assert response.context["adminform"].form["url"].value() == url  # the input is kept
    assert not Subscription.objects.exists()
    settings.WEBHOOK_ALLOWED_HOSTS = ["localhost"]  # unless the setting allows the host
    assert len(_shown(staff_client.post(f"{SUBSCRIPTIONS}add/", {"application": application.pk,
                                                                 "url": "http://localhost:9/hooks"}))) == 1


def test_the_subscriptions_limit_and_another_companys_application_are_refused(staff_client, application,
                                                                             foreign_application, settings):
    settings.WEBHOOK_MAX_SUBSCRIPTIONS = 1
    _subscription(application)
    response = staff_client.post(f"{SUBSCRIPTIONS}add/", {"application": application.pk, "url": "http://localhost:9/b"})
    assert "at most 1 webhook" in " ".join(_form_errors(response)["__all__"])
    response = staff_client.post(f"{SUBSCRIPTIONS}add/", {"application": foreign_application.pk,
                                                          "url": "http://localhost:9/c"})
    assert "application" in _form_errors(response)
    assert Subscription.objects.count() == 1 and not Subscription.objects.filter(application=foreign_application).exists()


# --------------------------------------------------------------------------- edit

def test_full_staff_edit_a_subscription_through_the_service(staff_client, application):
    subscription = _subscription(application, event_types=["customer.created"], description="old").subscription
    page = staff_client.get(f"{SUBSCRIPTIONS}{subscription.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' in page.content.decode()
    assert "the delivery log" in page.content.decode()

    response = staff_client.post(f"{SUBSCRIPTIONS}{subscription.pk}/change/", _change_data(
        subscription, url="http://localhost:9/new", event_types=["customer.blocked", "customer.archived"],
        description="new", active=False))
    assert response.status_code == 302, _form_errors(response)
    subscription.refresh_from_db()
    assert (subscription.url, subscription.event_types, subscription.description, subscription.active) == (
        "http://localhost:9/new", ["customer.archived", "customer.blocked"], "new", False)

    # turned on again: a disabled subscription starts afresh (the service's rule)
    Subscription.objects.filter(pk=subscription.pk).update(disabled_at=timezone.now(), disabled_reason="failing",
                                                           failing_since=timezone.now())
    subscription.refresh_from_db()
    staff_client.post(f"{SUBSCRIPTIONS}{subscription.pk}/change/", _change_data(subscription, active=True))
    subscription.refresh_from_db()
    assert subscription.active and subscription.disabled_at is None and subscription.failing_since is None


def test_an_edit_changes_only_what_changed(staff_client, application):
    """An active subscription whose description is edited keeps its failure clock (active was not given)."""
    subscription = _subscription(application).subscription
    failing_since = timezone.now() - timedelta(hours=3)
    Subscription.objects.filter(pk=subscription.pk).update(failing_since=failing_since)
    response = staff_client.post(f"{SUBSCRIPTIONS}{subscription.pk}/change/",
                                 _change_data(subscription, description="renamed"))
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.description == "renamed" and subscription.failing_since == failing_since


def test_the_edit_form_shows_the_apis_errors(staff_client, application, settings):
    subscription = _subscription(application, description="kept").subscription
    change = f"{SUBSCRIPTIONS}{subscription.pk}/change/"
    errors = _form_errors(staff_client.post(change, _change_data(subscription, url="gopher://example.com")))
    assert "url must be an http or https URL" in " ".join(errors["__all__"])
    errors = _form_errors(staff_client.post(change, _change_data(subscription, event_types=["customer.nope"])))
    assert "customer.nope" in " ".join(errors["event_types"])
    settings.WEBHOOK_ALLOWED_HOSTS = []
    errors = _form_errors(staff_client.post(change, _change_data(subscription, url="http://127.0.0.1:8/x",
                                                                 description="changed")))
    assert "private address" in " ".join(errors["__all__"])
    current = Subscription.objects.get(pk=subscription.pk)
    assert (current.url, current.description) == (subscription.url, "kept")  # nothing half-written


# --------------------------------------------------------------------------- rotate

def test_rotating_shows_a_new_secret_once_and_the_old_one_signs_for_the_grace_period(staff_client, application,
                                                                                    settings):
    with http_receiver([200]) as receiver:
        created = _subscription(application, url=receiver.url + "/hooks")
        subscription = created.subscription
        page = _action(staff_client, SUBSCRIPTIONS, "rotate_secret", subscription)
        assert page.status_code == 200 and "no-store" in page["Cache-Control"]
        [(subscription_id, new_secret)] = _shown(page)
        assert subscription_id == subscription.pk and new_secret.startswith("whsec_") and new_secret != created.secret
        assert "keeps signing beside the new one until" in page.content.decode()
        rotated = Subscription.objects.get(pk=subscription.pk)
        assert secrets.unseal(rotated.secret_ciphertext) == new_secret
        assert rotated.previous_secret_until - timezone.now() > timedelta(seconds=settings.WEBHOOK_SECRET_GRACE_SECONDS - 60)

        _event(application)
        assert delivery.deliver_due(subscription.pk) == 1
        settings.WEBHOOK_SECRET_GRACE_SECONDS = 0
        [(_, newest)] = _shown(_action(staff_client, SUBSCRIPTIONS, "rotate_secret", subscription))
        _event(application)
        assert delivery.deliver_due(subscription.pk) == 1
    during_grace, after = receiver.requests
    assert _verified(during_grace, created.secret) and _verified(during_grace, new_secret)  # either verifies
    assert _verified(after, newest)
    with pytest.raises(WebhookVerificationError):
        _verified(after, new_secret)  # replaced with a grace of 0 s

    for path in (f"{SUBSCRIPTIONS}{subscription.pk}/change/", SUBSCRIPTIONS):
        assert newest not in staff_client.get(path).content.decode()  # shown once
    history = staff_client.get(f"{SUBSCRIPTIONS}{subscription.pk}/history/").content.decode()
    assert "Rotated the signing secret." in history


# --------------------------------------------------------------------------- the delivery log, redelivery

def test_redeliver_selected_deliveries_queues_their_events_again(staff_client, application, foreign_application):
    with http_receiver([404, 404, 200]) as receiver:
        subscription = _subscription(application, url=receiver.url + "/hooks").subscription
        first, second = _event(application), _event(application)
        assert delivery.deliver_due(subscription.pk) == 2
        failed = {d.event_id: d for d in Delivery.objects.filter(subscription=subscription)}
        assert {d.status for d in failed.values()} == {Delivery.FAILED}

        log = staff_client.get(DELIVERIES, {"q": subscription.pk})
        assert log.status_code == 200 and {d.pk for d in log.context["cl"].result_list} == {
            d.pk for d in failed.values()}
        assert 'value="redeliver_selected"' in log.content.decode()
        assert first.event_id in log.content.decode() and second.event_id in log.content.decode()  # the webhook-ids
        page = staff_client.get(f"{DELIVERIES}{failed[first.id].pk}/change/").content.decode()
        assert first.event_id in page and "HTTP 404: not retried" in page  # its attempts
        answer = _action(staff_client, DELIVERIES, "redeliver_selected", failed[first.id], follow=True)
        assert "Queued again: 1 event(s)." in answer.content.decode()
        again = Delivery.objects.get(subscription=subscription, status=Delivery.PENDING)
        assert again.event_id == first.id and again.attempts == 0 and again.next_attempt_at <= timezone.now()
        assert Delivery.objects.get(pk=failed[first.id].pk).status == Delivery.FAILED  # the log keeps the failure

        assert delivery.deliver_due(subscription.pk) == 1
    assert [r.headers["webhook-id"] for r in receiver.requests] == [first.event_id, second.event_id, first.event_id]
    assert Delivery.objects.get(pk=again.pk).status == Delivery.SUCCEEDED


def test_redelivery_stays_in_the_company_and_the_delivery_log_is_read_only(staff_client, application,
                                                                            foreign_application):
    foreign = _subscription(foreign_application).subscription
    _event(foreign_application)
    [theirs] = Delivery.objects.filter(subscription=foreign)
    assert theirs.pk not in {d.pk for d in staff_client.get(DELIVERIES).context["cl"].result_list}
    _action(staff_client, DELIVERIES, "redeliver_selected", theirs)
    assert Delivery.objects.filter(subscription=foreign).count() == 1
    assert staff_client.get(f"{DELIVERIES}{theirs.pk}/change/").status_code == 302  # not found
    ours = _subscription(application).subscription
    _event(application)
    [delivered] = Delivery.objects.filter(subscription=ours)
    page = staff_client.get(f"{DELIVERIES}{delivered.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert staff_client.get(f"{DELIVERIES}add/").status_code == 403
    assert 'value="delete_selected"' not in staff_client.get(DELIVERIES).content.decode()


def test_redeliver_deliveries_service(application, other_application):
    """services.redeliver_deliveries: one new pending delivery per (subscription, event); the event's id as the
    webhook-id, as the API's redelivery; events trimmed from the log are left out."""
    with http_receiver([200]) as receiver:
        one = _subscription(application, url=receiver.url + "/one").subscription
        two = _subscription(application, url=receiver.url + "/two").subscription
        elsewhere = _subscription(other_application, url=receiver.url + "/else").subscription
        event, other_event = _event(application), _event(other_application)
        assert delivery.deliver_due(one.pk) == delivery.deliver_due(two.pk) == delivery.deliver_due(elsewhere.pk) == 1
        done = list(Delivery.objects.filter(subscription__in=[one, two]))
        trimmed = Delivery.objects.create(subscription=one, event_id=event.id + 10_000, next_attempt_at=timezone.now(),
                                          status=Delivery.FAILED)
        foreign_event = Delivery(subscription=one, event_id=other_event.id)  # not one's application's event

        assert services.redeliver_deliveries(done + done + [trimmed, foreign_event], ACTOR) == 2
        queued = Delivery.objects.filter(status=Delivery.PENDING)
        assert sorted((d.subscription_id, d.event_id) for d in queued) == sorted([(one.pk, event.id), (two.pk, event.id)])
        assert services.redeliver_deliveries([], ACTOR) == 0
        receiver.requests.clear()
        assert delivery.deliver_due(one.pk) == delivery.deliver_due(two.pk) == 1
    assert {r.path for r in receiver.requests} == {"/one", "/two"}
    assert {r.headers["webhook-id"] for r in receiver.requests} == {event.event_id}


# --------------------------------------------------------------------------- read-only staff, another company

def test_read_only_staff_see_subscriptions_and_deliveries_and_change_nothing(read_only_client, application):
    created = _subscription(application, description="watched")
    subscription = created.subscription
    _event(application)
    listing = read_only_client.get(SUBSCRIPTIONS)
    assert listing.status_code == 200
    assert subscription.url in listing.content.decode() and b'name="action"' not in listing.content
    assert read_only_client.get(f"{SUBSCRIPTIONS}add/").status_code == 403
    assert read_only_client.post(f"{SUBSCRIPTIONS}add/", {"application": application.pk,
                                                          "url": "http://localhost:9/ro"}).status_code == 403
    page = read_only_client.get(f"{SUBSCRIPTIONS}{subscription.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content and b"the delivery log" in page.content
    assert created.secret not in page.content.decode() and subscription.secret_ciphertext not in page.content.decode()
    assert read_only_client.post(f"{SUBSCRIPTIONS}{subscription.pk}/change/",
                                 _change_data(subscription, description="changed")).status_code == 403
    for action in ("rotate_secret", "pause", "redeliver_failed"):
        answer = _action(read_only_client, SUBSCRIPTIONS, action, subscription)
        assert "whsec_" not in answer.content.decode()
    current = Subscription.objects.get(pk=subscription.pk)
    assert (current.secret_ciphertext, current.previous_secret_ciphertext, current.active, current.description) == (
        subscription.secret_ciphertext, "", True, "watched")

    log = read_only_client.get(DELIVERIES)
    [shown] = log.context["cl"].result_list
    assert shown.subscription_id == subscription.pk and b'name="action"' not in log.content
    _action(read_only_client, DELIVERIES, "redeliver_selected", shown)
    assert Delivery.objects.count() == 1


def test_another_companys_staff_see_nothing_of_it(foreign_staff_client, application):
    ours = _subscription(application, description="ours").subscription
    _event(application)
    [delivered] = Delivery.objects.filter(subscription=ours)
    listing = foreign_staff_client.get(SUBSCRIPTIONS)
    assert listing.status_code == 200 and list(listing.context["cl"].result_list) == []
    assert list(foreign_staff_client.get(DELIVERIES).context["cl"].result_list) == []
    for path in (f"{SUBSCRIPTIONS}{ours.pk}/change/", f"{DELIVERIES}{delivered.pk}/change/"):
        response = foreign_staff_client.get(path)
        assert response.status_code in (302, 404) and ours.pk not in response.get("Location", ""), path
    assert foreign_staff_client.post(f"{SUBSCRIPTIONS}{ours.pk}/change/",
                                     _change_data(ours, description="theirs")).status_code in (302, 404)
    answer = _action(foreign_staff_client, SUBSCRIPTIONS, "rotate_secret", ours)
    assert "whsec_" not in answer.content.decode()
    _action(foreign_staff_client, SUBSCRIPTIONS, "pause", ours)
    _action(foreign_staff_client, DELIVERIES, "redeliver_selected", delivered)
    current = Subscription.objects.get(pk=ours.pk)
    assert (current.secret_ciphertext, current.active, current.description) == (ours.secret_ciphertext, True, "ours")
    assert Delivery.objects.count() == 1
    # their add form offers their applications only
    form = foreign_staff_client.get(f"{SUBSCRIPTIONS}add/")
    assert {a.name for a in form.context["adminform"].form.fields["application"].queryset} == {"Foreign Store"}
    response = foreign_staff_client.post(f"{SUBSCRIPTIONS}add/", {"application": application.pk,
                                                                  "url": "http://localhost:9/steal"})
    assert "application" in _form_errors(response) and Subscription.objects.count() == 1
