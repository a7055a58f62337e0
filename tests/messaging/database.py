"""Reading the run's database straight, as the tests' judge of what the processes did."""

import time
import uuid

from sqlalchemy import text

from app import outbox
from app.extensions import db
from app.tickets.events import Happened
from app.transaction import transaction


class Database:
    """SQL on this run's database, each statement in its own app context."""

    def __init__(self, app):
        self.app = app

    def rows(self, statement, **params):
        with self.app.app_context():
            try:
                return db.session.execute(text(statement), params).all()
            finally:
                db.session.remove()

    def scalar(self, statement, **params):
        return self.rows(statement, **params)[0][0]

    def execute(self, statement, **params):
        with self.app.app_context(), db.engine.begin() as connection:
            connection.execute(text(statement), params)

    def tickets(self, event_id):
        """Return `{ticket_id: (status, booking_id)}` of the event's tickets."""
        rows = self.rows("SELECT id, status, booking_id FROM tickets WHERE event_id = :e", e=event_id)
        return {str(row.id): (row.status, row.booking_id and str(row.booking_id)) for row in rows}

    def seats(self, event_id):
        """Return `{ticket_id: (row, position in the row, category)}` of a seated event's tickets."""
        rows = self.rows("SELECT id, row_label, seat_position, category FROM tickets WHERE event_id = :e", e=event_id)
        return {str(row.id): (row.row_label, row.seat_position, row.category) for row in rows}

    def ticket_rows(self, event_id):
        """Return every column of the event's tickets, by id: what "unchanged" compares."""
        rows = self.rows("SELECT * FROM tickets WHERE event_id = :e ORDER BY id", e=event_id)
        return {str(row.id): tuple(row) for row in rows}

    def write_outbox(self, count):
        """Commit `count` events in one transaction, as a service function would; return their booking ids."""
        bookings = [uuid.uuid4() for _ in range(count)]
        with self.app.app_context():
            try:
                with transaction():
                    for booking in bookings:
                        outbox.record(Happened.TICKETS_RELEASED, booking_id=booking, event_id=1, ticket_ids=[])
            finally:
                db.session.remove()
        return {str(booking) for booking in bookings}

    def inbox_count(self, consumer, message_id=None):
        statement = "SELECT count(*) FROM inbox_messages WHERE consumer = :c"
        if message_id is None:
            return self.scalar(statement, c=consumer)
        return self.scalar(statement + " AND message_id = CAST(:m AS uuid)", c=consumer, m=str(message_id))

    def listening_relays(self):
        """Count the relays waiting on the outbox's notifications."""
        return self.scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN outbox'"
        )


def eventually(check, *, timeout=10, interval=0.05):
    """Call `check` until it returns something true; return that (or the last falsy answer)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval)
