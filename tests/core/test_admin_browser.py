"""The admin console in a real browser: Debian's headless Chromium driven by Playwright.

A company staff user logs in, finds a customer with the search box, blocks them with the action,
sees the success message, and never sees another company's customer.
"""

import pytest

from core.tenancy import services as core_services
from tests.browser import open_page
from core.actors import Actor
from users import services as user_services
from users.models import AuditEvent

PASSWORD = "Browser-console-pass!"


def make_customer(application, phone, email, **fields):
    return user_services.create_customer(application, {"phone_number": phone, "email": email, **fields},
                                         Actor.system("test"))


@pytest.mark.django_db(transaction=True)
def test_staff_finds_and_blocks_a_customer_in_the_browser(live_server, chromium_path):
    # Database setup first: while Playwright's sync API runs its event loop in this thread, Django
    # refuses ORM calls (SynchronousOnlyOperation); the checks come after the browser is closed.
    application, _ = core_services.create_application(company_id=559, name="Demo Store")
    foreign_app, _ = core_services.create_application(company_id=777, name="Foreign Store")
    asha = make_customer(application, "9876500001", "asha@example.com", first_name="Asha", last_name="Rao")
    make_customer(application, "9876500002", "ravi@example.com", first_name="Ravi")
    foreign = make_customer(foreign_app, "9876500004", "fiona@foreign.example", first_name="Fiona")
    core_services.create_staff_user(company_id=559, username="staff559", password=PASSWORD)

    from playwright.sync_api import expect

    base = live_server.url
    with open_page() as page:

        # Log in: /admin/ sends an anonymous visitor to the login form.
        page.goto(f"{base}/admin/")
        expect(page).to_have_url(f"{base}/admin/login/?next=/admin/")
        page.fill("#id_username", "staff559")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        expect(page).to_have_url(f"{base}/admin/")
        # The admin's stylesheets are served (WhiteNoise with finders under pytest).
        assert page.request.get(f"{base}/static/admin/css/base.css").ok

        # To the customer list from the index.
        page.locator("#content-main a[href='/admin/users/customer/']").first.click()
        expect(page.locator("#result_list")).to_be_visible()
        assert "ravi@example.com" in page.content()
        assert "fiona@foreign.example" not in page.content()

        # Find Asha with the search box.
        page.fill("#searchbar", "asha@example")
        page.press("#searchbar", "Enter")
        rows = page.locator("#result_list tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("asha@example.com")

        # Block her with the action.
        rows.first.locator("input.action-select").check()
        page.select_option("select[name=action]", "block_customers")
        page.click("button[name=index]")
        expect(page.locator("ul.messagelist li.success")).to_have_text("Blocked 1 customer.")

        # Another company's customer: absent from the search, and its URL shows nothing.
        page.fill("#searchbar", "fiona")
        page.press("#searchbar", "Enter")
        expect(page.locator("#result_list")).to_have_count(0)
        assert "fiona@foreign.example" not in page.content()

        page.goto(f"{base}/admin/users/customer/{foreign.pk}/change/")
        expect(page).to_have_url(f"{base}/admin/")
        expect(page.locator("ul.messagelist li.warning")).to_contain_text("doesn’t exist")
        assert "fiona@foreign.example" not in page.content()
        assert "Fiona" not in page.content()

    # Database checks after the browser is gone (ORM calls inside the Playwright block would run in
    # the event loop's context, on a connection of their own that nobody closes).
    asha.refresh_from_db()
    assert asha.active is False
    event = AuditEvent.objects.get(customer_id=asha.pk, action="customer.blocked")
    assert event.actor_type == "staff" and event.actor_name == "staff559"
    assert event.reason == "Blocked from the admin console by staff559"
    foreign.refresh_from_db()
    assert foreign.active is True
    assert not AuditEvent.objects.filter(customer_id=foreign.pk, action="customer.blocked").exists()
