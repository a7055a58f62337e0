"""Hold tickets for a booking, by quantity or by id, until a deadline.

The REST API and the `hold-tickets` consumer both call `hold_tickets`. A booking holds
at most one set of tickets per event: asking again returns the set it already holds.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from flask import current_app
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import UUID as PG_UUID

from app import cache, metrics, outbox
from app.errors import HoldUnavailable, InvalidRequest
from app.extensions import db
from app.models import TicketStatus
from app.tickets.changes import hold_available, lock_tickets, move_tickets
from app.tickets.events import Happened
from app.tickets.locking import keys_for, redis_locks
from app.tickets.transaction import transaction

BOOKING = PG_UUID(as_uuid=True)

# The booking's advisory lock is a one-time filter: taken before the scan, even when
# the booking holds nothing, so two requests of one booking never both make a hold.
CURRENT_HOLD_SQL = text(
    """
    SELECT id, held_until
      FROM tickets
     WHERE (SELECT pg_advisory_xact_lock(hashtextextended(:booking_key, 0))::text) = ''
       AND booking_id = :booking_id AND event_id = :event_id
       AND status = 'Held' AND held_until > now()
     ORDER BY id
    """
).bindparams(bindparam("booking_id", type_=BOOKING))

PICK_AVAILABLE_SQL = text(
    """
    SELECT id FROM tickets
     WHERE event_id = :event_id AND status = 'Available'
     ORDER BY id
     LIMIT :count
       FOR UPDATE SKIP LOCKED
    """
)
PICK_EXPIRED_SQL = text(
    """
    SELECT id FROM tickets
     WHERE event_id = :event_id AND status = 'Held' AND held_until <= now()
     ORDER BY held_until
     LIMIT :count
       FOR UPDATE SKIP LOCKED
    """
)
COUNT_FREE_SQL = text(
    """
    SELECT count(*) FROM tickets
     WHERE event_id = :event_id
       AND (status = 'Available' OR (status = 'Held' AND held_until <= now()))
    """
)


@dataclass(frozen=True)
class Hold:
    """Tickets held for a booking until `held_until`."""

    booking_id: UUID
    event_id: int
    ticket_ids: list[UUID]
    held_until: datetime


def _hold_seconds(hold_seconds):
    config = current_app.config
    if hold_seconds is None:
        return config["HOLD_DEFAULT_SECONDS"]
    if not 1 <= hold_seconds <= config["HOLD_MAX_SECONDS"]:
        message = f"holdSeconds must be from 1 to {config['HOLD_MAX_SECONDS']}."
        raise InvalidRequest(message, errors={"json": {"holdSeconds": [message]}})
    return hold_seconds


def _current_hold(event_id, booking_id):
    """Serialize this booking's holds, then return the tickets it holds now in the event."""
    params = {"booking_key": str(booking_id), "booking_id": booking_id, "event_id": event_id}
    return db.session.execute(CURRENT_HOLD_SQL, params).all()


def _count_free(event_id):
    return db.session.execute(COUNT_FREE_SQL, {"event_id": event_id}).scalar_one()


def _not_enough(event_id, count, available):
    """Return the refusal of a quantity hold that found only `available` free seats."""
    return HoldUnavailable(f"Not enough tickets available for event {event_id}: asked for {count}.",
                           requested=count, available=available)


def _pick_by_quantity(event_id, count):
    """Lock `count` free seats of the event, skipping those other buyers are locking."""
    params = {"event_id": event_id, "count": count}
    picked = list(db.session.scalars(PICK_AVAILABLE_SQL, params))
    if len(picked) < count:
        params["count"] = count - len(picked)
        picked += db.session.scalars(PICK_EXPIRED_SQL, params)
    if len(picked) < count:
        raise _not_enough(event_id, count, _count_free(event_id))
    return picked


def _check_given(event_id, booking_id, ticket_ids):
    """Lock the given tickets and make sure the booking may hold every one of them."""
    tickets = lock_tickets(ticket_ids)
    missing = [str(ticket_id) for ticket_id in ticket_ids if ticket_id not in tickets]
    if missing:
        raise HoldUnavailable(
            f"Tickets not found: {', '.join(missing)}.", requested=len(ticket_ids), available=0
        )
    foreign = [str(t.id) for t in tickets.values() if t.event_id != event_id]
    if foreign:
        raise InvalidRequest(
            f"Tickets {', '.join(foreign)} do not belong to event {event_id}.",
            errors={"json": {"ticketIds": ["Every ticket must belong to eventId."]}},
        )
    taken = [t for t in tickets.values() if not t.is_free_for(booking_id)]
    if taken:
        described = ", ".join(f"{t.id} is {t.status}" for t in taken)
        raise HoldUnavailable(
            f"Tickets cannot be held: {described}.",
            requested=len(ticket_ids),
            available=len(ticket_ids) - len(taken),
        )
    return sorted(tickets)


def hold_tickets(*, event_id, booking_id, number_of_tickets=None, ticket_ids=None, hold_seconds=None):
    """Hold `number_of_tickets` free seats of the event, or the given `ticket_ids`, for a booking.

    Free means Available, or Held with an expired deadline. If the booking already holds
    tickets of this event, those are returned and nothing changes. Either way the hold
    is recorded as `TicketsHeld`. A quantity hold that finds too few free seats leaves
    their number in Redis; later quantity holds asking for more are refused from it
    without the database (see `app.cache`).

    :raises InvalidRequest: neither or both of `number_of_tickets` and `ticket_ids`, a bad
        `hold_seconds`, or tickets of another event.
    :raises HoldUnavailable: not enough free tickets, or a given ticket is taken.
    :raises Busy: the tickets are locked by another request for longer than the bounded wait.
    """
    if (number_of_tickets is None) == (not ticket_ids):
        message = "Give exactly one of numberOfTickets or ticketIds."
        raise InvalidRequest(message, errors={"json": {"_schema": [message]}})
    seconds = _hold_seconds(hold_seconds)
    if not ticket_ids:
        _refuse_if_known_sold_out(event_id, booking_id, number_of_tickets)
    try:
        with transaction():
            redis_locks(keys_for(event_id=event_id, ticket_ids=ticket_ids or ()))
            current = _current_hold(event_id, booking_id)
            if current:
                result = "repeated"
                hold = Hold(booking_id, event_id, [row.id for row in current], current[0].held_until)
            else:
                result = "held"
                hold = _hold_new(event_id, booking_id, number_of_tickets, ticket_ids, seconds)
            outbox.record(Happened.TICKETS_HELD, booking_id=booking_id, event_id=event_id,
                          ticket_ids=hold.ticket_ids, held_until=hold.held_until)
            cache.mark_holder_after_transaction(event_id=event_id, booking_id=booking_id,
                                                seconds=(hold.held_until - datetime.now(UTC)).total_seconds())
    except HoldUnavailable as refusal:
        metrics.HOLDS.labels("unavailable").inc()
        if not ticket_ids:
            cache.remember_free(event_id, refusal.available)
        raise
    metrics.HOLDS.labels(result).inc()
    return hold


def _refuse_if_known_sold_out(event_id, booking_id, count):
    """Refuse a quantity hold from the event's sold-out answer in Redis, without the database.

    :raises HoldUnavailable: Redis remembers fewer free seats than `count`.
    """
    free = cache.known_free(event_id, booking_id)
    if free is not None and free < count:
        metrics.HOLDS.labels("unavailable").inc()
        raise _not_enough(event_id, count, free)


def _hold_new(event_id, booking_id, number_of_tickets, ticket_ids, seconds):
    """Pick and hold the tickets of a new hold.

    A quantity hold first tries Available seats in one statement; only when there are
    not enough does it look at expired holds too.
    """
    moved = {}
    if not ticket_ids:
        moved = hold_available(event_id=event_id, count=number_of_tickets, booking_id=booking_id,
                               hold_seconds=seconds)
    if not moved:
        if ticket_ids:
            picked = _check_given(event_id, booking_id, ticket_ids)
        else:
            picked = _pick_by_quantity(event_id, number_of_tickets)
        moved = move_tickets(
            picked, to_status=TicketStatus.HELD, booking_id=booking_id, keep_owner=False, hold_seconds=seconds
        )
    return Hold(booking_id, event_id, sorted(moved), next(iter(moved.values())).held_until)
