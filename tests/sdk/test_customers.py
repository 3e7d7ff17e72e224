"""The official Fynd JavaScript SDK against the real service over HTTP: every Customers method, the
OAuth grants and the error shape (scenario: tests/sdk/customers.test.js)."""

from tests.sdk.runner import run_sdk_script


def test_fynd_javascript_sdk_drives_every_customers_method(live_server, transactional_db):
    run_sdk_script(live_server, "customers.test.js", "sdk compat")
