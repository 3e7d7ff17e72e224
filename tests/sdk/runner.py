"""Runs one scenario of tests/sdk/ (the official Fynd JavaScript SDK, @gofynd/fdk-client-javascript 3.4.2,
strictResponseCheck on) against the live test server; `make test` installs its node_modules (npm ci)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from core.tenancy import services as core_services
from core.tenancy.models import ALL_SCOPES

SDK_DIR = Path(__file__).resolve().parent
SDK_PACKAGE = SDK_DIR / "node_modules" / "@gofynd" / "fdk-client-javascript" / "package.json"
COMPANY_ID = 559
TIMEOUT_SECONDS = 120


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed; the SDK compatibility tests need Node.js 18+ on PATH.")
    if not SDK_PACKAGE.exists():
        pytest.fail(f"{SDK_PACKAGE.relative_to(SDK_DIR.parent.parent)} is missing; "
                    f"run `cd tests/sdk && npm ci` (make test does it).")
    return node


def run_sdk_script(live_server, script: str, client_name: str, extra_env: dict | None = None):
    """Create an application and an all-scopes API client, run tests/sdk/<script> with their
    credentials in FDK_* variables (plus ``extra_env``), and fail with its output unless it exits 0."""
    node = _node()
    application, storefront_token = core_services.create_application(company_id=COMPANY_ID, name="SDK Store")
    api_client, secret = core_services.create_api_client(
        company_id=COMPANY_ID, name=client_name, scopes=list(ALL_SCOPES))
    env = {
        **os.environ,
        "FDK_DOMAIN": live_server.url,
        "FDK_COMPANY_ID": str(COMPANY_ID),
        "FDK_APPLICATION_ID": application.id,
        "FDK_APPLICATION_TOKEN": storefront_token,
        "FDK_CLIENT_ID": api_client.client_id,
        "FDK_CLIENT_SECRET": secret,
        "NO_PROXY": "*",  # the SDK's axios must talk to the local server directly
        "no_proxy": "*",
        **(extra_env or {}),
    }
    try:
        result = subprocess.run([node, str(SDK_DIR / script)], cwd=SDK_DIR, env=env, capture_output=True,
                                text=True, timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the SDK script did not finish in {TIMEOUT_SECONDS}s\n"
                    f"--- stdout ---\n{exc.stdout or ''}\n--- stderr ---\n{exc.stderr or ''}")
    assert result.returncode == 0, (
        f"the SDK script {script} failed (exit {result.returncode})\n"
        f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    )
    return result
