"""The official Fynd JavaScript SDK against the real service over HTTP: getPlatformConfig and
updatePlatformConfig, including a read-only client refused the update
(scenario: tests/sdk/platform_config.test.js)."""

from core.tenancy import services as core_services
from core.tenancy.models import SCOPE_CUSTOMERS_READ
from tests.sdk.runner import COMPANY_ID, run_sdk_script


def test_fynd_javascript_sdk_drives_the_platform_config(live_server, transactional_db):
    reader, reader_secret = core_services.create_api_client(
        company_id=COMPANY_ID, name="sdk reader", scopes=[SCOPE_CUSTOMERS_READ])
    result = run_sdk_script(live_server, "platform_config.test.js", "sdk platform config", {
        "FDK_READONLY_CLIENT_ID": reader.client_id,
        "FDK_READONLY_CLIENT_SECRET": reader_secret,
    })
    assert "FAIL" not in result.stdout
