"""The admin console's browser tests: Debian's headless Chromium driven by Playwright's sync API.

Set the database up before ``open_page`` and check it after the block: while Playwright's loop runs in the
test's thread, Django refuses ORM calls (SynchronousOnlyOperation)."""

import os
import shutil
from contextlib import contextmanager

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def chromium_executable() -> str:
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if not path:
        pytest.fail(f"Chromium is required for the browser tests: apt-get install chromium ({CHROMIUM} is missing).")
    return path


@contextmanager
def open_page(*, timeout_ms: int = 15_000, **page_options):
    """A new page of a fresh headless Chromium, closed with the block."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_executable(), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(**page_options)
            page.set_default_timeout(timeout_ms)
            yield page
        finally:
            browser.close()


def log_in(page, base: str, username: str, password: str, next_path: str = "/admin/") -> None:
    """Through the admin's login form, landing on ``next_path``."""
    page.goto(f"{base}/admin/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}{next_path}")
