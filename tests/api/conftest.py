"""Fixtures of the API tests."""

import pytest

from tests.api.helpers import Database


@pytest.fixture
def tables(app):
    """Direct access to the test database, beside the API."""
    return Database(app)
