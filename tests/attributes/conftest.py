"""Fixtures of the attribute tests."""

import pytest

from tests.attributes.support import DEFINITIONS, assert_definition


@pytest.fixture
def define(api, url):
    """define(name=..., type=..., **fields) -> the created definition (through the API)."""
    counter = iter(range(10_000))

    def factory(**fields):
        body = {"name": f"Attribute {next(counter)}", "type": "string", **fields}
        response = api.post(url(DEFINITIONS), body, format="json")
        assert response.status_code == 201, response.content
        return assert_definition(response.json())

    return factory


@pytest.fixture
def customer(create_customer):
    return create_customer(first_name="Asha")
