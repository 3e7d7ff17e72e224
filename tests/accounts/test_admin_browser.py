"""A staff user sees a locked-out customer on their admin page and unlocks them, in a real browser
(Debian's headless Chromium driven by Playwright, as tests/core/test_admin_browser.py)."""

import pytest

from accounts import limits
from core.actors import Actor
from core.tenancy import services as core_services
from tests.browser import open_page
from users import services as user_services
from users.models import AuditEvent

PASSWORD = "Browser-console-pass!"
POLICY = {"enable": True, "attempts": 3, "duration": 30}


@pytest.mark.django_db(transaction=True)
def test_staff_sees_a_locked_customer_and_unlocks_them(live_server, chromium_path):
    application, _ = core_services.create_application(company_id=559, name="Demo Store")
    asha = user_services.create_customer(application, {"phone_number": "9876500001", "email": "asha@example.com",
                                                       "first_name": "Asha"}, Actor.system("test"))
    for _ in range(3):
        limits.lockout.failed("password", application.id, asha.pk, "asha@example.com", "203.0.113.7", POLICY)
    assert limits.lockout.state(application.id, asha.pk)["locked"]
    core_services.create_staff_user(company_id=559, username="staff559", password=PASSWORD)

    from playwright.sync_api import expect

    base = live_server.url
    with open_page() as page:
        page.goto(f"{base}/admin/login/?next=/admin/users/customer/{asha.pk}/change/")
        page.fill("#id_username", "staff559")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        expect(page.locator(".field-sign_in")).to_contain_text("Locked")

        page.goto(f"{base}/admin/users/customer/")
        row = page.locator("#result_list tbody tr", has_text="asha@example.com")
        row.locator("input.action-select").check()
        page.select_option("select[name=action]", "unlock_customers")
        page.click("button[name=index]")
        expect(page.locator("ul.messagelist li.success")).to_have_text("Unlocked 1 customer.")

        page.goto(f"{base}/admin/users/customer/{asha.pk}/change/")
        expect(page.locator(".field-sign_in")).to_contain_text("Not locked")

    assert not limits.lockout.state(application.id, asha.pk)["locked"]
    event = AuditEvent.objects.get(customer_id=asha.pk, action="account.unlocked")
    assert event.actor_type == "staff" and event.actor_name == "staff559"
