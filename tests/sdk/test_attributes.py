"""The official Fynd JavaScript SDK against the real service over HTTP: every customer attribute
method of the SDK 3.4.2 PlatformClient but filterUsersByAttributes, with strictResponseCheck on
(scenario: tests/sdk/attributes.test.js)."""

from core.tenancy import services as core_services
from core.tenancy.models import SCOPE_CUSTOMERS_READ
from tests.sdk.runner import COMPANY_ID, run_sdk_script


def test_fynd_javascript_sdk_drives_the_attribute_methods(live_server, transactional_db):
    reader, reader_secret = core_services.create_api_client(
        company_id=COMPANY_ID, name="sdk attribute reader", scopes=[SCOPE_CUSTOMERS_READ])
    result = run_sdk_script(live_server, "attributes.test.js", "sdk attributes", {
        "FDK_READONLY_CLIENT_ID": reader.client_id,
        "FDK_READONLY_CLIENT_SECRET": reader_secret,
    })
    assert "FAIL" not in result.stdout
