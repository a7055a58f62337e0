"""Fixtures of the API tests."""

import pytest

from tests.api.helpers import Database, walk_to


@pytest.fixture
def tables(app):
    """Direct access to the test database, beside the API."""
    return Database(app)


@pytest.fixture
def ticket_at(client, make_tickets, event_id):
    """Make a ticket and walk it to the given status; return its id."""

    def make(status):
        [ticket_id] = make_tickets(event_id)
        walk_to(client, ticket_id, status)
        return ticket_id

    return make
