"""Webhooks (docs/webhooks.md): subscriptions through the API, deliveries to a real local HTTP receiver that
verifies them with the ``standardwebhooks`` library, retries, Retry-After, giving up, disabling, secret
rotation, redelivery and the outbound guard. The worker's code (webhooks.delivery) runs in the test."""

import json
import socket
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from core.actors import Actor
from core.tenancy.models import SCOPE_CUSTOMERS_READ, SCOPE_CUSTOMERS_WRITE, SCOPE_WEBHOOKS_WRITE
from tests.helpers import assert_error
from tests.http_receiver import http_receiver
from users import eventlog, events
from users.models import AuditEvent
from webhooks import delivery, services
from webhooks.models import Attempt, Delivery, Subscription

ACTOR = Actor.system("tests")


@pytest.fixture(autouse=True)
def local_receivers(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["localhost"]
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS = 1


def _subscribe(api, url, receiver_url, **fields):
    response = api.post(url("webhooks/subscriptions"), {"url": receiver_url + "/hooks", **fields}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _sent(subscription_id):
    """Number the committed events, then run the worker's delivery for the subscription (as its task does)."""
    eventlog.sequence_all()
    return delivery.deliver_due(subscription_id)


def _verified(request, secret) -> dict:
    headers = {name: request.headers[name] for name in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    return Webhook(secret).verify(request.body, headers)


def _due_now(subscription_id):
    Delivery.objects.filter(subscription_id=subscription_id, status=Delivery.PENDING).update(
        next_attempt_at=timezone.now())


def test_a_change_reaches_the_receiver_signed_the_standard_webhooks_way(api, url, create_customer, application):
    with http_receiver([200]) as receiver:
        created = _subscribe(api, url, receiver.url, event_types=["customer.created"], description="CRM")
        assert created["secret"].startswith("whsec_") and created["active"] is True
        shown = api.get(url(f"webhooks/subscriptions/{created['id']}")).json()
        assert "secret" not in shown and shown["event_types"] == ["customer.created"]

        user = create_customer(email="asha@example.com")
        assert api.put(url(f"customers/{user['_id']}"), {"last_name": "Rao"}, format="json").status_code == 200
        assert _sent(created["id"]) == 1  # only the type it asked for
        [request] = receiver.requests
        body = _verified(request, created["secret"])
        event = AuditEvent.objects.get(customer_id=user["_id"], action=events.CUSTOMER_CREATED)
        assert request.path == "/hooks" and request.headers["content-type"] == "application/json"
        assert request.headers["webhook-id"] == event.event_id == body["id"]
        assert body["type"] == "customer.created" and body["customer_id"] == user["_id"]
        assert body["data"]["email"] == "asha@example.com" and body["sequence"] == event.__class__.objects.get(
            pk=event.pk).sequence
        with pytest.raises(WebhookVerificationError):
            Webhook("whsec_" + "QUJD" * 8).verify(request.body, dict(request.headers))

    log = api.get(url(f"webhooks/subscriptions/{created['id']}/deliveries")).json()
    [item] = log["items"]
    assert item["status"] == "succeeded" and item["event_id"] == event.event_id and item["attempts"] == 1
    [attempt] = item["attempt_log"]
    assert attempt["status_code"] == 200 and attempt["latency_ms"] >= 0 and attempt["error"] == ""
    assert attempt["attempted_at"] == item["finished_at"] and attempt["next_attempt_at"] == ""
    # a first try that succeeds is recorded on the delivery itself: no attempt row written for it
    assert not Attempt.objects.filter(delivery__subscription_id=created["id"]).exists()


def test_a_batch_goes_over_one_kept_alive_connection(api, url, create_customer):
    with http_receiver([200]) as receiver:
        created = _subscribe(api, url, receiver.url)
        for _ in range(3):
            create_customer()
        assert _sent(created["id"]) == 3
    assert len(receiver.requests) == 3 and len({r.client_port for r in receiver.requests}) == 1


def test_failures_are_retried_with_the_same_id_until_a_2xx(api, url, create_customer):
    with http_receiver([500, {"status": 429, "headers": {"Retry-After": "120"}}, 204]) as receiver:
        created = _subscribe(api, url, receiver.url)
        create_customer()
        started = timezone.now()
        assert _sent(created["id"]) == 1
        pending = Delivery.objects.get(subscription_id=created["id"])
        assert pending.status == Delivery.PENDING and pending.last_status_code == 500
        assert timedelta(seconds=3) <= pending.next_attempt_at - started <= timedelta(seconds=7)  # 5 s ± 25 %
        assert delivery.deliver_due(created["id"]) == 0  # not due yet

        _due_now(created["id"])
        before = timezone.now()
        assert delivery.deliver_due(created["id"]) == 1
        pending.refresh_from_db()
        assert pending.last_status_code == 429 and pending.next_attempt_at - before >= timedelta(seconds=120)

        _due_now(created["id"])
        delivery.deliver_due(created["id"])
        pending.refresh_from_db()
        assert pending.status == Delivery.SUCCEEDED and pending.attempts == 3
        assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
        assert all(_verified(r, created["secret"])["type"] == "customer.created" for r in receiver.requests)
    assert Subscription.objects.get(pk=created["id"]).failing_since is None
    [item] = api.get(url(f"webhooks/subscriptions/{created['id']}/deliveries")).json()["items"]
    assert [a["status_code"] for a in item["attempt_log"]] == [204, 429, 500]  # every try after a failure, newest first
    assert item["attempt_log"][2]["next_attempt_at"] and not item["attempt_log"][0]["next_attempt_at"]


def test_no_answer_is_retried_and_other_refusals_are_not(api, url, create_customer, settings):
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    refused = _subscribe(api, url, f"http://localhost:{port}")
    with http_receiver([{"status": 200, "delay": 2}]) as slow, http_receiver([404]) as gone:
        timing_out = _subscribe(api, url, slow.url)
        not_found = _subscribe(api, url, gone.url)
        create_customer()
        eventlog.sequence_all()
        for subscription in (refused, timing_out, not_found):
            delivery.deliver_due(subscription["id"])
    by_subscription = {d.subscription_id: d for d in Delivery.objects.all()}
    assert by_subscription[refused["id"]].status == Delivery.PENDING
    assert "connect" in by_subscription[refused["id"]].last_error.lower()
    assert by_subscription[timing_out["id"]].status == Delivery.PENDING
    assert "timed out" in by_subscription[timing_out["id"]].last_error.lower()
    assert by_subscription[not_found["id"]].status == Delivery.FAILED
    assert by_subscription[not_found["id"]].last_status_code == 404


def test_a_receiver_that_does_not_answer_holds_the_batch_and_its_return_releases_the_backlog(api, url,
                                                                                               create_customer):
    with socket.socket() as closed:  # the receiver is down: nobody listens on its port
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    created = _subscribe(api, url, f"http://localhost:{port}")
    for _ in range(4):
        create_customer()
    assert _sent(created["id"]) == 4
    deliveries = list(Delivery.objects.filter(subscription_id=created["id"]).order_by("id"))
    probe, held = deliveries[0], deliveries[1:]
    assert probe.attempts == 1 and probe.last_status_code is None and not probe.held
    assert all(d.held and d.attempts == 0 and d.status == Delivery.PENDING for d in held)  # one try, not four
    assert all(d.next_attempt_at == probe.next_attempt_at for d in held) and probe.attempt_log.count() == 1
    assert delivery.deliver_due(created["id"]) == 0  # all wait for the probe's next try

    with http_receiver([503, 200]) as receiver:  # back, first answering 503 (an answer: nothing held)
        Subscription.objects.filter(pk=created["id"]).update(url=receiver.url + "/hooks")
        Delivery.objects.filter(pk=probe.pk).update(next_attempt_at=timezone.now())  # the probe's time came
        assert delivery.deliver_due(created["id"]) == 1
        probe.refresh_from_db()
        assert probe.last_status_code == 503 and probe.status == Delivery.PENDING
        assert Delivery.objects.filter(held=True).count() == 3  # a 5xx releases nothing
        create_customer()  # a new event, due now, succeeds: the held backlog goes out at once
        eventlog.sequence_all()
        assert delivery.deliver_due(created["id"]) == 1
        assert not Delivery.objects.filter(held=True).exists()
        assert delivery.deliver_due(created["id"]) == 3
    statuses = dict(Delivery.objects.filter(subscription_id=created["id"]).values_list("id", "status"))
    assert [statuses[d.pk] for d in held] == [Delivery.SUCCEEDED] * 3 and statuses[probe.pk] == Delivery.PENDING
    assert len(receiver.requests) == 5 and Subscription.objects.get(pk=created["id"]).failing_since is None


def test_the_retry_window_ends_a_delivery_and_a_failing_subscription_is_turned_off(api, url, create_customer,
                                                                                    settings, application):
    settings.WEBHOOK_RETRY_WINDOW_SECONDS = 0
    settings.WEBHOOK_DISABLE_AFTER_SECONDS = 0
    with http_receiver([503]) as receiver:
        created = _subscribe(api, url, receiver.url)
        create_customer()
        _sent(created["id"])
        first = Delivery.objects.get(subscription_id=created["id"])
        assert first.status == Delivery.FAILED and first.attempts == 1  # the window is over: no retry
        assert Subscription.objects.get(pk=created["id"]).failing_since is not None

        create_customer()
        _sent(created["id"])
    subscription = Subscription.objects.get(pk=created["id"])
    assert subscription.active is False and subscription.disabled_at and "HTTP 503" in subscription.disabled_reason
    disabled = AuditEvent.objects.get(application_id=application.id, action=events.WEBHOOK_DISABLED)
    assert disabled.published and disabled.data["subscription_id"] == created["id"]
    shown = api.get(url(f"webhooks/subscriptions/{created['id']}")).json()
    assert shown["active"] is False and shown["disabled_reason"]

    # a disabled subscription gets nothing queued; turned on again, it starts afresh
    create_customer()
    eventlog.sequence_all()
    assert Delivery.objects.filter(subscription_id=created["id"]).count() == 2
    turned_on = api.put(url(f"webhooks/subscriptions/{created['id']}"), {"active": True}, format="json").json()
    assert turned_on["active"] is True and turned_on["disabled_at"] == "" and turned_on["failing_since"] == ""


def test_a_rotated_secret_signs_beside_the_old_one_during_the_grace_period(api, url, create_customer, settings):
    with http_receiver([200]) as receiver:
        created = _subscribe(api, url, receiver.url)
        rotated = api.post(url(f"webhooks/subscriptions/{created['id']}/secret")).json()
        assert rotated["secret"] != created["secret"] and rotated["secret"].startswith("whsec_")
        create_customer()
        _sent(created["id"])
        settings.WEBHOOK_SECRET_GRACE_SECONDS = 0
        api.post(url(f"webhooks/subscriptions/{created['id']}/secret"))  # the grace of the second one is 0 s
        create_customer()
        _sent(created["id"])
    first, second = receiver.requests
    assert len(first.headers["webhook-signature"].split(" ")) == 2
    assert _verified(first, created["secret"]) and _verified(first, rotated["secret"])
    with pytest.raises(WebhookVerificationError):
        _verified(second, rotated["secret"])  # replaced, and its grace was 0 s


def test_redelivery_of_one_event_or_of_every_failure_since_a_time(api, url, create_customer):
    with http_receiver([404, 404, 200]) as receiver:
        created = _subscribe(api, url, receiver.url)
        create_customer()
        create_customer()
        _sent(created["id"])
        assert Delivery.objects.filter(subscription_id=created["id"], status=Delivery.FAILED).count() == 2
        since = (timezone.now() - timedelta(minutes=5)).isoformat()
        answer = api.post(url(f"webhooks/subscriptions/{created['id']}/redeliver"), {"failed_since": since},
                          format="json")
        assert answer.json() == {"queued": 2}
        one = receiver.requests[0].headers["webhook-id"]
        assert api.post(url(f"webhooks/subscriptions/{created['id']}/redeliver"), {"event_id": one},
                        format="json").json() == {"queued": 1}
        assert delivery.deliver_due(created["id"]) == 3
    assert [r.headers["webhook-id"] for r in receiver.requests].count(one) == 3
    assert_error(api.post(url(f"webhooks/subscriptions/{created['id']}/redeliver"), {"event_id": "f" * 24},
                          format="json"), 404, "event")
    assert_error(api.post(url(f"webhooks/subscriptions/{created['id']}/redeliver"), {}, format="json"), 400)


def test_a_paused_subscription_keeps_its_deliveries_until_resumed(api, url, create_customer):
    with http_receiver([200]) as receiver:
        created = _subscribe(api, url, receiver.url)
        create_customer()
        eventlog.sequence_all()
        api.put(url(f"webhooks/subscriptions/{created['id']}"), {"active": False}, format="json")
        assert delivery.deliver_due(created["id"]) == 0 and receiver.requests == []
        api.put(url(f"webhooks/subscriptions/{created['id']}"), {"active": True}, format="json")
        assert delivery.deliver_due(created["id"]) == 1 and len(receiver.requests) == 1


def test_receivers_on_private_addresses_are_refused(api, url, create_customer, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    assert_error(api.post(url("webhooks/subscriptions"), {"url": "http://127.0.0.1:9/hooks"}, format="json"), 400,
                 "url", "private", code="url_invalid")
    assert_error(api.post(url("webhooks/subscriptions"), {"url": "http://169.254.169.254/"}, format="json"), 400)
    settings.WEBHOOK_ALLOWED_HOSTS = ["localhost"]
    with http_receiver([200]) as receiver:
        created = _subscribe(api, url, receiver.url)
        settings.WEBHOOK_ALLOWED_HOSTS = []  # no longer allowed when it is time to send
        create_customer()
        _sent(created["id"])
    assert receiver.requests == []
    refused = Delivery.objects.get(subscription_id=created["id"])
    assert refused.status == Delivery.FAILED and "private" in refused.last_error.lower()


def test_bad_input_and_scopes(api, url, make_client, application):
    assert_error(api.post(url("webhooks/subscriptions"), {"url": "ftp://example.com"}, format="json"), 400, "url")
    assert_error(api.post(url("webhooks/subscriptions"), {"url": "http://localhost:9/h", "event_types": ["nope"]},
                          format="json"), 400, "event_types")
    assert_error(api.post(url("webhooks/subscriptions"), {"url": 7}, format="json"), 400, "url")
    assert_error(api.get(url("webhooks/subscriptions/" + "a" * 24)), 404)
    assert_error(api.get(url("webhooks/subscriptions/nope")), 400)

    reader = make_client(scopes=[SCOPE_CUSTOMERS_READ])
    customers_writer = make_client(scopes=[SCOPE_CUSTOMERS_READ, SCOPE_CUSTOMERS_WRITE])
    assert reader.get(url("webhooks/subscriptions")).status_code == 200
    for client in (reader, customers_writer):
        assert client.post(url("webhooks/subscriptions"), {"url": "http://localhost:9/h"},
                           format="json").status_code == 403
    hooks_writer = make_client(scopes=[SCOPE_CUSTOMERS_READ, SCOPE_WEBHOOKS_WRITE])
    assert hooks_writer.post(url("webhooks/subscriptions"), {"url": "http://localhost:9/h"},
                             format="json").status_code == 201


def test_an_application_never_gets_another_ones_events(api, url, other_application, application):
    with http_receiver([200]) as receiver:
        created = _subscribe(api, url, receiver.url)
        other = services.create_subscription(other_application, {"url": receiver.url + "/other"}, ACTOR)
        from users.services import record_event

        record_event("a" * 24, other_application.id, events.CUSTOMER_BLOCKED, ACTOR)
        assert _sent(created["id"]) == 0
        assert delivery.deliver_due(other.subscription.pk) == 1
    [request] = receiver.requests
    assert request.path == "/other" and json.loads(request.body)["application_id"] == other_application.id
    assert api.get(url(f"webhooks/subscriptions/{other.subscription.pk}")).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_delivery_leaves_it_to_the_next_with_the_same_id(application, tmp_path, monkeypatch,
                                                                              settings):
    from django.conf import settings as conf

    from tests import workers
    from users.services import record_event
    from webhooks import tasks

    settings.WEBHOOK_LEASE_SECONDS = 1
    with http_receiver([{"status": 200, "delay": 5}, 200]) as receiver:
        created = services.create_subscription(application, {"url": receiver.url + "/hooks"}, ACTOR)
        queue, log = workers.private_queue(monkeypatch, "webhooks.tasks.deliver"), tmp_path / "worker.log"
        env = workers.worker_env(conf.MEDIA_ROOT, WEBHOOK_ALLOWED_HOSTS="localhost", WEBHOOK_LEASE_SECONDS=1,
                                 WEBHOOK_TIMEOUT_SECONDS=30)
        first = workers.start_worker(env, queue, log)
        try:
            record_event("a" * 24, application.id, events.CUSTOMER_BLOCKED, ACTOR)
            eventlog.sequence_all()  # committed: the worker is told at once
            workers.wait_for(lambda: len(receiver.requests) == 1, "the worker to be sending", log)
        finally:
            workers.stop(first)  # SIGKILL while the receiver has not answered yet
        pending = Delivery.objects.get(subscription_id=created.subscription.pk)
        assert pending.status == Delivery.PENDING and pending.attempts == 0

        second = workers.start_worker(env, queue, log)
        try:
            workers.wait_for(lambda: Delivery.objects.filter(pk=pending.pk, lease_until__lt=timezone.now()).exists(),
                             "the dead worker's lease to end", log)
            assert tasks.dispatch_due() == 1  # beat's sweep hands it to the live worker
            workers.wait_for(lambda: Delivery.objects.get(pk=pending.pk).status == Delivery.SUCCEEDED,
                             "the delivery by the second worker", log)
        finally:
            workers.stop(second)
    first_try, second_try = receiver.requests
    assert first_try.headers["webhook-id"] == second_try.headers["webhook-id"]
    assert _verified(second_try, created.secret)["customer_id"] == "a" * 24


def test_beats_sweep_leaves_fresh_deliveries_to_their_task_and_takes_those_left_waiting(api, url, create_customer,
                                                                                       monkeypatch):
    from tests import workers
    from webhooks import tasks

    workers.private_queue(monkeypatch, "webhooks.tasks.deliver")  # the tasks it sends go nowhere
    created = _subscribe(api, url, "http://localhost:9")
    create_customer()
    eventlog.sequence_all()  # queued, due now: the numbering's own task is on its way
    assert tasks.dispatch_due() == 0
    pending = Delivery.objects.filter(subscription_id=created["id"])
    pending.update(next_attempt_at=timezone.now() - timedelta(seconds=tasks.DISPATCH_AFTER_SECONDS + 1))
    assert tasks.dispatch_due() == 1  # left waiting (its task lost with Redis, a retry whose time came)
    pending.update(next_attempt_at=timezone.now(), lease_until=timezone.now() - timedelta(seconds=1))
    assert tasks.dispatch_due() == 1  # claimed by a worker that died: at once
    pending.update(lease_until=timezone.now() + timedelta(seconds=60))
    assert tasks.dispatch_due() == 0  # a live worker's


def test_a_release_of_held_deliveries_sends_a_task_for_them(api, url, create_customer, monkeypatch,
                                                          django_capture_on_commit_callbacks):
    from core.metrics.collectors import redis_client
    from tests import workers
    from webhooks import tasks

    queue = workers.private_queue(monkeypatch, tasks.deliver.name)
    with socket.socket() as closed:  # the receiver is down: the first delivery fails, the second is held
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    created = _subscribe(api, url, f"http://localhost:{port}")
    create_customer()
    create_customer()
    assert _sent(created["id"]) == 2 and Delivery.objects.filter(held=True).count() == 1
    with http_receiver([200, 200]) as receiver:
        Subscription.objects.filter(pk=created["id"]).update(url=receiver.url + "/hooks")
        _due_now(created["id"])
        Delivery.objects.filter(held=True).update(next_attempt_at=timezone.now() + timedelta(hours=1))
        with django_capture_on_commit_callbacks(execute=True):
            assert delivery.deliver_due(created["id"]) == 1  # the probe succeeds: the held one goes out now
        assert redis_client().llen(queue) == 1  # with a task of its own (the probe's task ended with a short batch)
        assert delivery.deliver_due(created["id"]) == 1
    redis_client().delete(queue)
    assert len(receiver.requests) == 2


def test_staff_see_their_companys_subscriptions_and_pause_and_turn_them_on(staff_client, application,
                                                                             foreign_application):
    ours = services.create_subscription(application, {"url": "http://localhost:9/ours"}, ACTOR).subscription
    theirs = services.create_subscription(foreign_application, {"url": "http://localhost:9/theirs"},
                                          ACTOR).subscription
    listing = staff_client.get("/admin/webhooks/subscription/").content.decode()
    assert "/ours" in listing and "/theirs" not in listing
    assert staff_client.get(f"/admin/webhooks/subscription/{theirs.pk}/change/").status_code == 302  # not found
    page = staff_client.get(f"/admin/webhooks/subscription/{ours.pk}/change/").content.decode()
    assert "the delivery log" in page and ours.secret_ciphertext not in page
    assert staff_client.get("/admin/webhooks/subscription/add/").status_code == 200  # full staff add (secret shown once)

    staff_client.post("/admin/webhooks/subscription/", {"action": "pause", "_selected_action": [ours.pk, theirs.pk]})
    assert not Subscription.objects.get(pk=ours.pk).active and Subscription.objects.get(pk=theirs.pk).active
    staff_client.post("/admin/webhooks/subscription/", {"action": "turn_on", "_selected_action": [ours.pk]})
    assert Subscription.objects.get(pk=ours.pk).active
    assert staff_client.get("/admin/webhooks/delivery/").status_code == 200

    confirm = staff_client.post(f"/admin/webhooks/subscription/{ours.pk}/delete/")
    assert confirm.status_code == 200 and "/ours" in confirm.content.decode()
    staff_client.post(f"/admin/webhooks/subscription/{ours.pk}/delete/", {"post": "yes"})
    assert not Subscription.objects.filter(pk=ours.pk).exists()


def test_deleting_a_subscription_takes_its_deliveries_and_attempts(api, url, create_customer):
    with http_receiver([500]) as receiver:
        created = _subscribe(api, url, receiver.url)
        kept = _subscribe(api, url, receiver.url)
        create_customer()
        create_customer()
        _sent(created["id"])
        delivery.deliver_due(kept["id"])
    assert Attempt.objects.filter(delivery__subscription_id=created["id"]).count() == 2
    assert api.delete(url(f"webhooks/subscriptions/{created['id']}")).status_code in (200, 204)
    assert not Delivery.objects.filter(subscription_id=created["id"]).exists()
    assert not Attempt.objects.filter(delivery__subscription_id=created["id"]).exists()
    assert Attempt.objects.filter(delivery__subscription_id=kept["id"]).count() == 2  # the other one's stay


def test_the_migration_grants_existing_staff_the_webhook_permissions(application):
    import importlib

    from django.apps import apps

    from core.tenancy import services as core_services

    staff = core_services.create_staff_user(company_id=559, username="oldstaff", password="Adm1n-console-pass!")
    staff.user_permissions.remove(*staff.user_permissions.filter(content_type__app_label="webhooks"))
    assert not type(staff).objects.get(pk=staff.pk).has_perm("webhooks.change_subscription")
    migration = importlib.import_module("webhooks.migrations.0003_grant_staff_permissions")
    migration.Migration.operations[0].code(apps, None)
    staff = type(staff).objects.get(pk=staff.pk)
    assert staff.has_perm("webhooks.change_subscription") and staff.has_perm("webhooks.view_delivery")


def test_the_command_manages_subscriptions(application, capsys):
    from django.core.management import CommandError, call_command

    call_command("webhooks", "create", "--application", application.id, "--url", "http://localhost:9/cmd",
                 "--event-type", "customer.created")
    out = capsys.readouterr().out
    subscription = Subscription.objects.get(application=application)
    assert subscription.pk in out and "whsec_" in out and subscription.event_types == ["customer.created"]
    call_command("webhooks", "rotate", "--application", application.id, subscription.pk)
    assert "whsec_" in capsys.readouterr().out
    assert Subscription.objects.get(pk=subscription.pk).previous_secret_ciphertext
    call_command("webhooks", "pause", "--application", application.id, subscription.pk)
    call_command("webhooks", "list", "--application", application.id)
    assert "off (paused)" in capsys.readouterr().out
    call_command("webhooks", "resume", "--application", application.id, subscription.pk)
    assert Subscription.objects.get(pk=subscription.pk).active
    with pytest.raises(CommandError, match="event_id or failed_since"):
        call_command("webhooks", "redeliver", "--application", application.id, subscription.pk)
    with pytest.raises(CommandError, match="No application"):
        call_command("webhooks", "list", "--application", "f" * 24)
    call_command("webhooks", "delete", "--application", application.id, subscription.pk)
    assert not Subscription.objects.exists()
