"""Fixtures of the SDK tests."""

import pytest

from core.tenancy import services as core_services
from core.tenancy.models import SCOPE_CUSTOMERS_READ
from tests.helpers import COMPANY_ID


@pytest.fixture
def readonly_client_env(transactional_db) -> dict:
    """A read-only API client's credentials, as the SDK scripts read them (FDK_READONLY_CLIENT_*)."""
    client, secret = core_services.create_api_client(
        company_id=COMPANY_ID, name="sdk reader", scopes=[SCOPE_CUSTOMERS_READ])
    return {"FDK_READONLY_CLIENT_ID": client.client_id, "FDK_READONLY_CLIENT_SECRET": secret}
