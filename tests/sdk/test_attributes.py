"""The official Fynd JavaScript SDK against the real service over HTTP: every customer attribute
method of the SDK 3.4.2 PlatformClient but filterUsersByAttributes, with strictResponseCheck on
(scenario: tests/sdk/attributes.test.js)."""

from tests.sdk.runner import run_sdk_script


def test_fynd_javascript_sdk_drives_the_attribute_methods(live_server, readonly_client_env):
    result = run_sdk_script(live_server, "attributes.test.js", "sdk attributes", {
        **readonly_client_env,
    })
    assert "FAIL" not in result.stdout
