"""Return expired holds to Available: the hold sweeper's work.

An expired hold already counts as free for every hold and reservation; the sweeper
makes the table say so, with an audit row per ticket, a batch per transaction.
Several sweepers may run at once: each skips the rows another has locked.
"""

from collections import defaultdict
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import text

from app import metrics, outbox
from app.context import origin
from app.extensions import db
from app.models import TicketStatus
from app.tickets.events import Happened
from app.tickets.moves import move_tickets
from app.transaction import transaction

EXPIRED_SQL = text(
    """
    SELECT id, event_id, booking_id FROM tickets
     WHERE status = 'Held' AND held_until <= now()
     ORDER BY held_until
     LIMIT :batch_size
       FOR UPDATE SKIP LOCKED
    """
)


@dataclass(frozen=True)
class ExpiredHold:
    """The tickets of one booking and event whose hold ran out."""

    booking_id: UUID | None
    event_id: int
    ticket_ids: list[UUID]


def release_expired_batch(*, batch_size):
    """Release up to `batch_size` expired holds in one transaction; return them by booking.

    Each booking's expiry is recorded as `HoldExpired`.
    """
    with origin(source="sweeper"), transaction():
        rows = db.session.execute(EXPIRED_SQL, {"batch_size": batch_size}).all()
        if not rows:
            return []
        move_tickets([row.id for row in rows], to_status=TicketStatus.AVAILABLE)
        grouped = defaultdict(list)
        for row in rows:
            grouped[(row.booking_id, row.event_id)].append(row.id)
        expired = [ExpiredHold(booking, event, sorted(ids)) for (booking, event), ids in grouped.items()]
        for hold in expired:
            if hold.booking_id is not None:
                outbox.record(Happened.HOLD_EXPIRED, booking_id=hold.booking_id, event_id=hold.event_id,
                              ticket_ids=hold.ticket_ids)
    metrics.HOLDS_EXPIRED.inc(len(rows))
    return expired


def release_expired_holds(*, batch_size):
    """Release every expired hold, a batch at a time; return them by booking."""
    released = []
    while True:
        batch = release_expired_batch(batch_size=batch_size)
        released += batch
        if sum(len(hold.ticket_ids) for hold in batch) < batch_size:
            return released
