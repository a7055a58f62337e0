"""Fixtures for the ticket domain's tests."""

import pytest
from sqlalchemy import text

from app.extensions import db


@pytest.fixture
def ticket_states(app):
    """Read `{ticket_id: (status, booking_id)}` of an event straight from the database."""

    def read(event_id):
        with app.app_context():
            rows = db.session.execute(
                text("SELECT id, status, booking_id FROM tickets WHERE event_id = :e"), {"e": event_id}
            ).all()
        return {str(row.id): (row.status, row.booking_id and str(row.booking_id)) for row in rows}

    return read
