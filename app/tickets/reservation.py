"""Reserve or release a batch of tickets, all or nothing; release what a booking owns."""

from collections import defaultdict
from dataclasses import dataclass

from app import metrics, outbox
from app.models import TicketStatus
from app.tickets.events import Happened
from app.tickets.locking import keys_for, redis_locks
from app.tickets.moves import lock_tickets, move_tickets
from app.transaction import transaction

RELEASABLE = {TicketStatus.HELD, TicketStatus.RESERVED}


@dataclass(frozen=True)
class Outcome:
    """Whether a batch operation was done, and if not, why."""

    done: bool
    reason: str | None = None
    invalid: bool = False


def _lock_event_tickets(event_id, ticket_ids):
    """Lock the tickets; return them, or the outcome that refuses the batch."""
    redis_locks(keys_for(event_id=event_id, ticket_ids=ticket_ids))
    tickets = lock_tickets(ticket_ids)
    missing = [str(ticket_id) for ticket_id in ticket_ids if ticket_id not in tickets]
    if missing:
        return None, Outcome(False, f"Tickets not found: {', '.join(missing)}.")
    foreign = [str(ticket.id) for ticket in tickets.values() if ticket.event_id != event_id]
    if foreign:
        return None, Outcome(False, f"Tickets {', '.join(foreign)} do not belong to event {event_id}.", invalid=True)
    return tickets, None


def _counted(counter, outcome):
    counter.labels("done" if outcome.done else "refused").inc()
    return outcome


def reserve_tickets(*, event_id, ticket_ids, booking_id=None):
    """Reserve every ticket or none; return the outcome.

    At least one ticket; each must belong to `event_id` and be Available, Held by `booking_id`,
    or Held with an expired hold. A reservation for a booking is recorded as
    `TicketsReserved`.

    :raises Busy: the tickets are locked by another request for longer than the bounded wait.
    """
    with transaction():
        return _counted(metrics.RESERVATIONS, _reserve(event_id, ticket_ids, booking_id))


def _reserve(event_id, ticket_ids, booking_id):
    if not ticket_ids:
        return Outcome(False, "No tickets to reserve.")
    tickets, refused = _lock_event_tickets(event_id, ticket_ids)
    if tickets is None:
        return refused
    taken = [t for t in tickets.values() if not t.is_free_for(booking_id)]
    if taken:
        described = ", ".join(f"{t.id} is {t.status}" for t in taken)
        return Outcome(False, f"Tickets cannot be reserved: {described}.")
    move_tickets(ticket_ids, to_status=TicketStatus.RESERVED, booking_id=booking_id, keep_owner=False)
    if booking_id is not None:
        outbox.record(Happened.TICKETS_RESERVED, booking_id=booking_id, event_id=event_id,
                      ticket_ids=sorted(ticket_ids))
    return Outcome(True)


def _announce_release(event_id, released):
    """Record one `TicketsReleased` per booking that owned released tickets."""
    by_booking = defaultdict(list)
    for ticket in released:
        if ticket.booking_id is not None:
            by_booking[ticket.booking_id].append(ticket.id)
    for booking_id, ids in by_booking.items():
        outbox.record(Happened.TICKETS_RELEASED, booking_id=booking_id, event_id=event_id, ticket_ids=sorted(ids))


def release_tickets(*, event_id, ticket_ids, booking_id=None):
    """Return every ticket to Available, or none; return the outcome.

    Each ticket must belong to `event_id` and be Held or Reserved, and, when
    `booking_id` is given, owned by that booking.

    :raises Busy: the tickets are locked by another request for longer than the bounded wait.
    """
    with transaction():
        return _counted(metrics.RELEASES, _release(event_id, ticket_ids, booking_id))


def _release(event_id, ticket_ids, booking_id):
    tickets, refused = _lock_event_tickets(event_id, ticket_ids)
    if tickets is None:
        return refused
    for ticket in tickets.values():
        if ticket.status not in RELEASABLE:
            return Outcome(False, f"Ticket {ticket.id} is {ticket.status}.")
        if booking_id is not None and ticket.booking_id != booking_id:
            return Outcome(False, f"Ticket {ticket.id} belongs to another booking.")
    move_tickets(ticket_ids, to_status=TicketStatus.AVAILABLE)
    _announce_release(event_id, tickets.values())
    return Outcome(True)


def release_booking_tickets(*, event_id, booking_id, ticket_ids):
    """Release those of `ticket_ids` that the booking still holds or has reserved; return their ids.

    Tickets the booking no longer owns (its hold expired and was taken, or they were
    already released) are left alone, so the saga's compensation always completes.
    The release is recorded as `TicketsReleased`, even when nothing was left.

    :raises Busy: the tickets are locked by another request for longer than the bounded wait.
    """
    with transaction():
        redis_locks(keys_for(event_id=event_id, ticket_ids=ticket_ids))
        tickets = lock_tickets(ticket_ids).values()
        owned = sorted(
            t.id for t in tickets
            if t.event_id == event_id and t.booking_id == booking_id and t.status in RELEASABLE
        )
        if owned:
            move_tickets(owned, to_status=TicketStatus.AVAILABLE)
        outbox.record(Happened.TICKETS_RELEASED, booking_id=booking_id, event_id=event_id, ticket_ids=owned)
    metrics.RELEASES.labels("done" if owned else "nothing-owned").inc()
    return owned
