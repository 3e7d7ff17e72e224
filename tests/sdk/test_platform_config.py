"""The official Fynd JavaScript SDK against the real service over HTTP: getPlatformConfig and
updatePlatformConfig, including a read-only client refused the update
(scenario: tests/sdk/platform_config.test.js)."""

from tests.sdk.runner import run_sdk_script


def test_fynd_javascript_sdk_drives_the_platform_config(live_server, readonly_client_env):
    result = run_sdk_script(live_server, "platform_config.test.js", "sdk platform config", {
        **readonly_client_env,
    })
    assert "FAIL" not in result.stdout
