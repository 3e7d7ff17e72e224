"""The console as staff use it, in a real browser (Debian's Chromium through Playwright), with a real Celery
worker for the export: a full staff user sees the overview's chart, creates a customer, fixes a typo in the
email, adds a phone, sets an attribute, issues an API client and gets a token with its secret, starts an
export and downloads it; a read-only staff user can change nothing; another company's staff sees none of it.
The screenshots of docs/screenshots/ are taken here (UPDATE_SCREENSHOTS=1 writes them there)."""

import base64
import csv
import io
import os
import signal
from pathlib import Path

import pytest

from attributes import services as attribute_services
from attributes.models import UserAttribute
from core.actors import Actor
from core.jobs.models import Job
from core.tenancy import services as core_services
from core.tenancy.models import ApiClient
from tests import workers
from tests.browser import log_in, open_page
from users import events
from users import services as user_services
from users.models import AuditEvent, Customer

PASSWORD = "Console-browser-pass!"
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SYSTEM = Actor.system("test")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def screenshots(tmp_path):
    """docs/screenshots/ with UPDATE_SCREENSHOTS=1 (then commit them), else a temporary folder: a test run
    leaves the checkout as it was."""
    folder = DOCS_SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.django_db(transaction=True)
def test_full_staff_work_in_the_console(live_server, chromium_path, media, screenshots, monkeypatch, tmp_path):
    # Database first (Django refuses ORM calls while Playwright's loop runs in this thread).
    application, _ = core_services.create_application(company_id=559, name="Demo Store")
    existing = user_services.create_customer(application, {"phone_number": "9876500001", "first_name": "Ravi",
                                                            "email": "ravi@example.com"}, SYSTEM)
    for _ in range(3):
        user_services.record_event(existing.pk, application.id, events.SIGNED_IN, SYSTEM)
    user_services.record_event(existing.pk, application.id, events.SIGNED_UP, SYSTEM)
    tier = attribute_services.create_definition(application, {"name": "Loyalty tier", "type": "string",
                                                               "validations": [{"type": "enum",
                                                                                "value": ["gold", "silver"]}]},
                                                SYSTEM)
    core_services.create_staff_user(company_id=559, username="staff559", password=PASSWORD)
    queue, log = workers.private_queue(monkeypatch), tmp_path / "worker.log"
    worker = workers.start_worker(workers.worker_env(media), queue, log)

    from playwright.sync_api import expect

    base = live_server.url
    shown = {}
    try:
        with open_page(timeout_ms=20_000, viewport={"width": 1280, "height": 1000}) as page:
            log_in(page, base, "staff559", PASSWORD)

            # The overview is the first page, with its chart.
            expect(page.locator("#overview h2")).to_have_text("Overview of Demo Store")
            expect(page.locator("#figure-customers strong")).to_have_text("1")
            expect(page.locator("#activity-chart svg")).to_be_visible()
            expect(page.locator("#activity-chart svg g[data-series='sign-ins'] circle")).to_have_count(30)
            expect(page.locator("#activity-chart")).to_contain_text("sign-ins (3 in all)")
            page.screenshot(path=str(screenshots / "overview.png"), full_page=True)

            # A new customer, with a typo in the email.
            page.goto(f"{base}/admin/users/customer/add/")
            page.select_option("#id_application", application.pk)
            page.fill("#id_phone_number", "9876500002")
            page.fill("#id_email", "asha@exmaple.com")
            page.fill("#id_first_name", "Asha")
            page.click("input[type=submit]")
            expect(page.locator("ul.messagelist li.success")).to_be_visible()
            customer_url = page.url
            assert "/admin/users/customer/" in customer_url and customer_url.endswith("/change/")

            # Fix the typo and add a second phone.
            page.click("a.edit-customer")
            expect(page.locator("#id_emails")).to_have_value("asha@exmaple.com")
            page.fill("#id_emails", "asha@example.com")
            page.fill("#id_phones", page.input_value("#id_phones") + "\n+919876500003")
            page.click("input[type=submit]")
            page.wait_for_url(customer_url)
            expect(page.locator("#content-main")).to_contain_text("asha@example.com")
            expect(page.locator("#content-main")).to_contain_text("+919876500003")

            # Set an attribute: a wrong value first (the definition's validation), then a right one.
            page.select_option("#id_attribute_definition", tier.pk)
            page.fill("#id_attribute_value", "platinum")
            page.click("#set-attribute")
            expect(page.locator("ul.messagelist li.error")).to_contain_text("The value was not set")
            page.select_option("#id_attribute_definition", tier.pk)
            page.fill("#id_attribute_value", "gold")
            page.click("#set-attribute")
            expect(page.locator("ul.messagelist li.success")).to_have_text("Loyalty tier set to gold.")
            expect(page.locator("#attribute-values")).to_contain_text("gold")
            page.screenshot(path=str(screenshots / "customer.png"), full_page=True)

            # Issue an API client; its secret, shown once, gets a token that reads the customers.
            page.goto(f"{base}/admin/core/apiclient/add/")
            page.fill("#id_name", "CRM sync")
            page.check("input[name=scopes][value='application/customers/read']")
            page.click("input[name=_save]")
            client_id = page.locator("code.client-id").inner_text()
            secret = page.locator("code.client-secret").inner_text()
            basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
            answer = page.request.post(f"{base}/service/panel/authentication/v1.0/company/559/oauth/token",
                                       form={"grant_type": "client_credentials"},
                                       headers={"Authorization": f"Basic {basic}"})
            assert answer.status == 200, answer.text()
            token = answer.json()["access_token"]
            customers = page.request.get(
                f"{base}/service/platform/user/v1.0/company/559/application/{application.pk}/customers/list",
                headers={"Authorization": f"Bearer {token}"})
            assert customers.status == 200, customers.text()
            assert {u["first_name"] for u in customers.json()["items"]} == {"Asha", "Ravi"}
            page.goto(f"{base}/admin/core/apiclient/")
            assert secret not in page.content()

            # Export the customers; the job's page follows the worker and offers the file.
            page.goto(f"{base}/admin/users/customer/export/")
            page.select_option("#id_application", application.pk)
            page.check("input[name=file_format][value=csv]")
            page.click("input[type=submit]")
            download_link = page.locator("a", has_text="result file")
            expect(download_link).to_be_visible(timeout=60_000)
            with page.expect_download() as download_info:
                download_link.click()
            shown["export"] = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
    finally:
        workers.stop(worker, signal.SIGTERM)

    rows = list(csv.DictReader(io.StringIO(shown["export"])))
    assert len(rows) == 2 and any("asha@example.com" in ",".join(row.values()) for row in rows), rows[:2]
    asha = Customer.objects.get(application=application, first_name="Asha")
    assert [e.email for e in asha.emails.all()] == ["asha@example.com"]
    assert sorted(p.e164 for p in asha.phones.all()) == ["+919876500002", "+919876500003"]
    staff_events = set(AuditEvent.objects.filter(customer_id=asha.pk, actor_type="staff",
                                                 actor_name="staff559").values_list("action", flat=True))
    assert {"customer.created", "customer.updated", "attribute.updated"} <= staff_events
    assert ApiClient.objects.get(name="CRM sync").company_id == 559
    assert Job.objects.get(application=application, kind="customer_export").status == Job.COMPLETED
    assert (screenshots / "overview.png").stat().st_size > 10_000


@pytest.mark.django_db(transaction=True)
def test_read_only_and_other_company_staff_in_the_console(live_server, chromium_path):
    application, _ = core_services.create_application(company_id=559, name="Demo Store")
    foreign_app, _ = core_services.create_application(company_id=777, name="Foreign Store")
    asha = user_services.create_customer(application, {"phone_number": "9876500001", "first_name": "Asha",
                                                        "email": "asha@example.com"}, SYSTEM)
    tier = attribute_services.create_definition(application, {"name": "Loyalty tier", "type": "string"}, SYSTEM)
    attribute_services.set_value(application, tier.id, asha.id, "gold", SYSTEM)
    user_services.create_customer(foreign_app, {"phone_number": "9876500004", "first_name": "Fiona"}, SYSTEM)
    core_services.create_staff_user(company_id=559, username="auditor559", password=PASSWORD, role="read_only")
    core_services.create_staff_user(company_id=777, username="staff777", password=PASSWORD)

    from playwright.sync_api import expect

    base = live_server.url
    with open_page() as page:
        log_in(page, base, "auditor559", PASSWORD)
        expect(page.locator("#overview h2")).to_have_text("Overview of Demo Store")
        expect(page.locator("#activity-chart svg")).to_be_visible()

        # The customer's page: everything shown, nothing to change.
        page.goto(f"{base}/admin/users/customer/{asha.pk}/change/")
        expect(page.locator("#content-main")).to_contain_text("asha@example.com")
        expect(page.locator("#attribute-values")).to_contain_text("gold")
        for control in ("input[name=_save]", "a.edit-customer", "#set-attribute", "button.clear-attribute"):
            expect(page.locator(control)).to_have_count(0)
        page.goto(f"{base}/admin/users/customer/")
        expect(page.locator("select[name=action]")).to_have_count(0)
        for add_page in ("users/customer/add/", "core/apiclient/add/", "webhooks/subscription/add/",
                         "users/customer/export/", "users/customer/import/"):
            response = page.goto(f"{base}/admin/{add_page}")
            assert response.status == 403, add_page
        # A change posted anyway is refused.
        response = page.request.post(f"{base}/admin/users/customer/{asha.pk}/attributes/set/",
                                     form={"definition": tier.pk, "value": "silver"},
                                     headers={"X-CSRFToken": next(c["value"] for c in page.context.cookies()
                                                                  if c["name"] == "csrftoken"),
                                              "Referer": f"{base}/admin/"})
        assert response.status == 403

        # Another company's staff: their own store only.
        page.context.clear_cookies()
        log_in(page, base, "staff777", PASSWORD)
        expect(page.locator("#overview h2")).to_have_text("Overview of Foreign Store")
        expect(page.locator("#id_overview_application")).to_have_count(0)  # one store: no choice
        page.goto(f"{base}/admin/?application={application.pk}")
        expect(page.locator("#overview h2")).to_have_text("Overview of Foreign Store")
        page.goto(f"{base}/admin/users/customer/")
        expect(page.locator("#result_list")).to_contain_text("Fiona")
        assert "asha@example.com" not in page.content()
        page.goto(f"{base}/admin/users/customer/{asha.pk}/change/")
        expect(page).to_have_url(f"{base}/admin/")
        assert "asha@example.com" not in page.content()

    assert UserAttribute.objects.get(customer_id=asha.pk).value == "gold"
    assert not AuditEvent.objects.filter(actor_type="staff").exists()
