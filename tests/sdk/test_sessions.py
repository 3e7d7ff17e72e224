"""The official Fynd JavaScript SDK against the real service over HTTP: customer sessions, platform side
(PlatformClient) and storefront side (ApplicationClient with the f.session cookie), ending with a block
that the storefront sees (scenario: tests/sdk/sessions.test.js)."""

from tests.sdk.runner import run_sdk_script


def test_fynd_javascript_sdk_drives_sessions_on_both_sides(live_server, transactional_db):
    run_sdk_script(live_server, "sessions.test.js", "sdk sessions")
