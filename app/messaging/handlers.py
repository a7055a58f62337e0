"""What each consumed message does to the tickets: one function per queue, calling the domain.

A handler runs inside the consumer's transaction, with the message's context set (its
source, its conversation, what answering it takes). The domain's own savepoints hold
every change it makes; a handler records a refusal only where the domain changed nothing.
"""

from app import outbox
from app.errors import Busy, Conflict, HoldUnavailable, IdempotencyKeyReused, InvalidRequest
from app.tickets.creation import create_event_tickets
from app.tickets.events import Happened
from app.tickets.holds import hold_tickets
from app.tickets.layouts import parse_layout, seat_count, set_layout
from app.tickets.reservation import release_booking_tickets, reserve_tickets


def on_event_published(request):
    """Create the published event's tickets, or the seats of its layout, once.

    :raises InvalidRequest: the event was published before with another number of tickets
        or another layout, or it has tickets made without one; the layout is invalid, or
        has another number of seats than `numberOfTickets` says.
    """
    if request.get("layout") is not None:
        _create_seats(request)
        return
    try:
        create_event_tickets(event_id=request["event_id"], number_of_tickets=request["number_of_tickets"])
    except Busy:
        raise
    except Conflict as exc:
        raise InvalidRequest(exc.message) from exc
    except IdempotencyKeyReused as exc:
        raise InvalidRequest(
            f"Event {request['event_id']} was published before with another numberOfTickets"
            f" (this message says {request['number_of_tickets']})."
        ) from exc


def _create_seats(request):
    """Create the seats of the published event's layout, once; check `numberOfTickets` first, if given.

    :raises InvalidRequest: see `on_event_published`.
    """
    try:
        layout = parse_layout(request["layout"])
    except InvalidRequest as exc:
        raise InvalidRequest(f"Invalid layout: {exc.fields or exc.message}") from exc
    count, seats = request["number_of_tickets"], seat_count(layout)
    if count not in (None, seats):
        raise InvalidRequest(f"numberOfTickets is {count} but the layout has {seats} seats.")
    try:
        set_layout(event_id=request["event_id"], layout=layout)
    except Busy:
        raise
    except Conflict as exc:
        raise InvalidRequest(exc.message) from exc


def on_hold_requested(request):
    """Hold seats for the booking; a hold that cannot be made (a customer's limit too) is recorded as refused."""
    try:
        hold_tickets(event_id=request["event_id"], booking_id=request["booking_id"],
                     number_of_tickets=request["number_of_tickets"], ticket_ids=request["ticket_ids"],
                     hold_seconds=request.get("hold_seconds"), category=request["category"],
                     adjacent=request["adjacent"], customer_id=request["customer_id"])
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


