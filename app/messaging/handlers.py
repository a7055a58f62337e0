"""What each consumed message does to the tickets: one function per queue, calling the domain.

A handler runs inside the consumer's transaction, with the message's context set (its
source, its conversation, what answering it takes). The domain's own savepoints hold
every change it makes; a handler records a refusal only where the domain changed nothing.
"""

from app import outbox
from app.errors import HoldUnavailable, IdempotencyKeyReused, InvalidRequest
from app.tickets.creation import create_event_tickets
from app.tickets.events import Happened
from app.tickets.holds import hold_tickets
from app.tickets.reservation import release_booking_tickets, reserve_tickets


def on_event_published(request):
    """Create the published event's tickets, once.

    :raises InvalidRequest: the event was published before with another number of tickets.
    """
    try:
        create_event_tickets(event_id=request["event_id"], number_of_tickets=request["number_of_tickets"])
    except IdempotencyKeyReused as exc:
        raise InvalidRequest(
            f"Event {request['event_id']} was published before with another numberOfTickets"
            f" (this message says {request['number_of_tickets']})."
        ) from exc


def on_hold_requested(request):
    """Hold seats for the booking; a hold that cannot be made is recorded as refused."""
    try:
        hold_tickets(event_id=request["event_id"], booking_id=request["booking_id"],
                     number_of_tickets=request["number_of_tickets"], ticket_ids=request["ticket_ids"],
                     hold_seconds=request.get("hold_seconds"))
    except HoldUnavailable as refusal:
        outbox.record(Happened.HOLD_REFUSED, booking_id=request["booking_id"], event_id=request["event_id"],
                      reason=refusal.message, requested=refusal.requested, available=refusal.available)


def on_reserve_requested(request):
    """Reserve the booking's tickets; a reservation that cannot be made is recorded as refused."""
    outcome = reserve_tickets(event_id=request["event_id"], ticket_ids=request["ticket_ids"],
                              booking_id=request["booking_id"])
    if outcome.invalid:
        raise InvalidRequest(outcome.reason)
    if not outcome.done:
        outbox.record(Happened.RESERVATION_REFUSED, booking_id=request["booking_id"],
                      event_id=request["event_id"], reason=outcome.reason)


def on_release_requested(request):
    """Release what the booking owns among the tickets."""
    release_booking_tickets(event_id=request["event_id"], booking_id=request["booking_id"],
                            ticket_ids=request["ticket_ids"])


HANDLERS = {
    "event-published": on_event_published,
    "create-event-ticket": on_event_published,
    "hold-tickets": on_hold_requested,
    "reserve-tickets": on_reserve_requested,
    "release-tickets": on_release_requested,
}
REFUSALS = {"hold-tickets": Happened.HOLD_REFUSED, "reserve-tickets": Happened.RESERVATION_REFUSED}


