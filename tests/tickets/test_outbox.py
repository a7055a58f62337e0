"""The outbox keeps what a transaction recorded and committed: not what a savepoint or the transaction rolled back."""

import pytest
from sqlalchemy import text

from app import outbox
from app.extensions import db
from app.tickets.events import Happened
from app.transaction import transaction


def kinds_recorded():
    return [row.body["n"] for row in db.session.execute(text("SELECT body FROM outbox_messages ORDER BY id"))]


def test_rows_recorded_in_a_rolled_back_savepoint_or_transaction_are_not_written(app):
    with app.app_context():
        with transaction():
            outbox.record(Happened.TICKETS_RELEASED, n=1)
            with pytest.raises(RuntimeError), transaction():
                outbox.record(Happened.TICKETS_RELEASED, n=2)
                raise RuntimeError("this message rolls back alone")
            with transaction():
                outbox.record(Happened.TICKETS_RELEASED, n=3)
        with pytest.raises(RuntimeError), transaction():
            outbox.record(Happened.TICKETS_RELEASED, n=4)
            raise RuntimeError("the whole transaction rolls back")
        with transaction():
            outbox.record(Happened.TICKETS_RELEASED, n=5)
        assert kinds_recorded() == [1, 3, 5]
        db.session.remove()


def test_recording_outside_a_transaction_is_refused(app):
    with app.app_context(), pytest.raises(RuntimeError, match="inside transaction"):
        outbox.record(Happened.TICKETS_RELEASED, n=1)
