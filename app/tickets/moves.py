"""Row-level building blocks: lock tickets in the database, then move them and audit it.

Every status change goes through `move_tickets`, so every change bumps the version,
stamps `updated_at` and leaves one audit row, in the caller's transaction.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID

from app import cache
from app.context import current_correlation_id, current_source
from app.extensions import db
from app.models import TicketStatus

log = logging.getLogger(__name__)
UUID_ARRAY = ARRAY(PG_UUID(as_uuid=True))


@dataclass(frozen=True)
class LockedTicket:
    """A ticket row as read under `FOR UPDATE`."""

    id: UUID
    event_id: int
    status: TicketStatus
    booking_id: UUID | None
    held_until: datetime | None
    version: int
    updated_at: datetime
    hold_expired: bool

    def is_free_for(self, booking_id):
        """Tell whether `booking_id` may take this ticket: Available, expired, or its own hold."""
        if self.status == TicketStatus.AVAILABLE:
            return True
        if self.status != TicketStatus.HELD:
            return False
        return self.hold_expired or (booking_id is not None and self.booking_id == booking_id)


LOCK_SQL = text(
    """
    SELECT id, event_id, status, booking_id, held_until, version, updated_at,
           (status = 'Held' AND held_until <= now()) AS hold_expired
      FROM tickets
     WHERE id = ANY(:ids)
     ORDER BY id
       FOR UPDATE
    """
).bindparams(bindparam("ids", type_=UUID_ARRAY))

MOVE_TEMPLATE = """
    WITH old AS (
        {source}
    ), changed AS (
        UPDATE tickets AS t
           SET status = :to_status,
               booking_id = CASE WHEN :to_status = 'Available' THEN NULL
                                 WHEN :keep_owner THEN COALESCE(:booking_id, t.booking_id)
                                 ELSE :booking_id END,
               customer_id = CASE WHEN :to_status = 'Available' THEN NULL
                                  WHEN :customer_id IS NOT NULL THEN :customer_id
                                  WHEN t.booking_id = CASE WHEN :keep_owner THEN COALESCE(:booking_id, t.booking_id)
                                                           ELSE :booking_id END
                                  THEN t.customer_id END,
               held_until = CASE WHEN :to_status = 'Held'
                                 THEN now() + make_interval(secs => :hold_seconds) END,
               version = t.version + 1,
               updated_at = now()
          FROM old
         WHERE t.id = old.id {guard}
        RETURNING t.id, t.event_id, old.status AS from_status, t.booking_id, t.held_until, t.updated_at,
                  t.category, t.price
    ), audited AS (
        INSERT INTO ticket_status_changes
               (ticket_id, from_status, to_status, booking_id, source, correlation_id)
        SELECT id, from_status, :to_status, booking_id, :source, :correlation_id FROM changed
    )
    SELECT id, event_id, from_status, booking_id, held_until, updated_at, category, price FROM changed
"""
BOOKING = bindparam("booking_id", type_=PG_UUID(as_uuid=True))
MOVE_SQL = text(
    MOVE_TEMPLATE.format(source="SELECT id, status FROM tickets WHERE id = ANY(:ids)", guard="")
).bindparams(bindparam("ids", type_=UUID_ARRAY), BOOKING)
# A hold of given tickets (locked already): moved only while the booking holds no other
# seats of the event. The statement's snapshot follows the booking's advisory lock, so it
# sees a hold that another request of the booking committed while this one waited.
NO_OTHER_HOLD = """AND NOT EXISTS (SELECT 1 FROM tickets
                              WHERE booking_id = :booking_id AND event_id = :event_id
                                AND status = 'Held' AND held_until > now(){others})"""
HOLD_GIVEN_SQL = text(
    MOVE_TEMPLATE.format(source="SELECT id, status FROM tickets WHERE id = ANY(:ids)",
                         guard=NO_OTHER_HOLD.format(others=" AND id <> ALL(:ids)"))
).bindparams(bindparam("ids", type_=UUID_ARRAY), BOOKING)
# A quantity hold's fast path in one round trip: lock the first free seats, skipping those
# other buyers are locking, and hold them only if there are `count` of them. ORDER BY id
# keeps the planner on ix_tickets_available: without it, once statistics say the event
# fills the table, it picks a sequential scan that walks past every seat already sold.
# It holds nothing either when the booking holds seats of the event already: this
# statement's snapshot is taken after the booking's advisory lock was granted (by the
# statement before it), so it sees a hold that another request of the booking committed
# while this one waited for the lock.
HOLD_AVAILABLE_TEMPLATE = MOVE_TEMPLATE.format(
    source="""SELECT id, status FROM tickets
               WHERE event_id = :event_id AND status = 'Available' {category}
               ORDER BY id
               LIMIT :count
                 FOR UPDATE SKIP LOCKED""",
    guard="AND (SELECT count(*) FROM old) = :count " + NO_OTHER_HOLD.format(others=""),
)
HOLD_AVAILABLE_SQL = text(HOLD_AVAILABLE_TEMPLATE.replace("{category}", "")).bindparams(BOOKING)
HOLD_CATEGORY_SQL = text(HOLD_AVAILABLE_TEMPLATE.replace("{category}", "AND category = :category")).bindparams(BOOKING)


def lock_tickets(ticket_ids):
    """Lock the given tickets `FOR UPDATE` in id order and return those that exist, by id."""
    rows = db.session.execute(LOCK_SQL, {"ids": list(ticket_ids)})
    return {row.id: LockedTicket(**row._mapping) for row in rows}


@dataclass(frozen=True)
class MovedTicket:
    """What `move_tickets` changed on one ticket."""

    event_id: int
    from_status: TicketStatus
    held_until: datetime | None
    updated_at: datetime
    category: str | None = None
    price: Decimal | None = None


def move_tickets(ticket_ids, *, to_status, booking_id=None, keep_owner=True, hold_seconds=0, customer_id=None):
    """Move locked tickets to `to_status`, bump their version and write one audit row each.

    Moving to Available clears the owner; otherwise the owner becomes `booking_id`, or
    stays as it was when `booking_id` is None and `keep_owner` is set. The customer goes
    with the booking: `customer_id` when given, else the ticket's own while its booking
    stays the same, else none. A move to Held sets the deadline `hold_seconds` from the
    transaction's start (the database's clock); every other move clears it. Returns
    `{ticket_id: MovedTicket}`.
    """
    params = {"ids": list(ticket_ids), "keep_owner": keep_owner}
    return _move(MOVE_SQL, params, to_status=to_status, booking_id=booking_id, hold_seconds=hold_seconds,
                 customer_id=customer_id)


def hold_given(ticket_ids, *, event_id, booking_id, hold_seconds, customer_id=None):
    """Hold these locked tickets for the booking; return them as `move_tickets` does.

    `{}` when the booking holds other seats of the event: nothing changed.
    """
    params = {"ids": list(ticket_ids), "event_id": event_id, "keep_owner": False}
    return _move(HOLD_GIVEN_SQL, params, to_status=TicketStatus.HELD, booking_id=booking_id,
                 hold_seconds=hold_seconds, customer_id=customer_id)


def hold_available(*, event_id, count, booking_id, hold_seconds, category=None, customer_id=None):
    """Hold `count` Available seats of the event (of the category) for the booking, or none.

    Returns them as `move_tickets` does. Seats other transactions are locking are
    skipped, so buyers of one event never wait on each other; fewer than `count` free
    seats, or a booking that holds seats of the event already, returns `{}` and changes nothing.
    """
    params = {"event_id": event_id, "count": count, "keep_owner": False}
    statement = HOLD_AVAILABLE_SQL
    if category is not None:
        statement, params["category"] = HOLD_CATEGORY_SQL, category
    return _move(statement, params, to_status=TicketStatus.HELD, booking_id=booking_id, hold_seconds=hold_seconds,
                 customer_id=customer_id)


def _move(statement, params, *, to_status, booking_id, hold_seconds, customer_id=None):
    rows = db.session.execute(
        statement,
        params | {
            "to_status": str(to_status),
            "booking_id": booking_id,
            "customer_id": customer_id,
            "hold_seconds": float(hold_seconds),
            "source": current_source(),
            "correlation_id": current_correlation_id(),
        },
    )
    moved = {row.id: MovedTicket(row.event_id, row.from_status, row.held_until, row.updated_at, row.category,
                                 row.price)
             for row in rows}
    if moved:
        log.info(
            "%d tickets %s -> %s: %s",
            len(moved),
            "/".join(sorted({m.from_status for m in moved.values()})),
            to_status,
            " ".join(str(ticket_id) for ticket_id in moved),
            extra={"booking_id": str(booking_id) if booking_id else None},
        )
        cache.invalidate_after_transaction(ticket_ids=moved, event_ids={m.event_id for m in moved.values()},
                                           frees_seats=to_status == TicketStatus.AVAILABLE,
                                           categories={m.category for m in moved.values()} - {None})
    return moved
