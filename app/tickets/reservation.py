"""Reserve or release a batch of tickets, all or nothing."""

from app.models import TicketStatus
from app.tickets.changes import lock_tickets, move_tickets
from app.tickets.locking import keys_for, redis_locks
from app.tickets.transaction import transaction

RELEASABLE = {TicketStatus.HELD, TicketStatus.RESERVED}


def _lock_event_tickets(event_id, ticket_ids):
    """Lock the tickets; return them only if every one exists and belongs to the event."""
    redis_locks(keys_for(event_id=event_id, ticket_ids=ticket_ids))
    tickets = lock_tickets(ticket_ids)
    if len(tickets) != len(set(ticket_ids)):
        return None
    if any(ticket.event_id != event_id for ticket in tickets.values()):
        return None
    return tickets


def reserve_tickets(*, event_id, ticket_ids, booking_id=None):
    """Reserve every ticket or none; return whether they were reserved.

    Each ticket must belong to `event_id` and be Available, Held by `booking_id`,
    or Held with an expired hold.

    :raises Busy: the tickets are locked by another request for longer than the bounded wait.
    """
    with transaction():
        tickets = _lock_event_tickets(event_id, ticket_ids)
        if tickets is None or not all(t.is_free_for(booking_id) for t in tickets.values()):
            return False
        move_tickets(
            ticket_ids, to_status=TicketStatus.RESERVED, booking_id=booking_id, keep_owner=False
        )
        return True


def release_tickets(*, event_id, ticket_ids, booking_id=None):
    """Return every ticket to Available, or none; return whether they were released.

    Each ticket must belong to `event_id` and be Held or Reserved, and, when
    `booking_id` is given, owned by that booking.

    :raises Busy: the tickets are locked by another request for longer than the bounded wait.
    """
    with transaction():
        tickets = _lock_event_tickets(event_id, ticket_ids)
        if tickets is None:
            return False
        for ticket in tickets.values():
            if ticket.status not in RELEASABLE:
                return False
            if booking_id is not None and ticket.booking_id != booking_id:
                return False
        move_tickets(ticket_ids, to_status=TicketStatus.AVAILABLE)
        return True
