"""The `readme` set: the original README's message names, in the namespace `MESSAGE_NAMESPACE`."""

from marshmallow import fields

from app.messaging.contracts.base import (
    BookingTickets,
    Contract,
    HoldRequest,
    Money,
    UtcTime,
    booking_id,
    event_id,
)
from app.messaging.contracts.creation import EventCreation

SET = "readme"


class ReadmeContract(Contract):
    """A contract of the `readme` set."""

    contract_set = SET


class EventPublishedEvent(EventCreation, ReadmeContract):
    """An event went on sale: create its tickets, or the seats of its layout."""


class HoldTicketsRequest(HoldRequest, ReadmeContract):
    """Hold seats for a booking, by quantity or by id."""


class ReserveTicketsRequest(BookingTickets, ReadmeContract):
    """Reserve a booking's tickets."""


class ReleaseTicketsRequest(BookingTickets, ReadmeContract):
    """Release a booking's tickets."""

    reason = fields.String(allow_none=True)


class TicketHeldEvent(BookingTickets, ReadmeContract):
    """The booking holds these tickets until `heldUntil`; together they cost `totalPrice` in `currency`."""

    held_until = UtcTime(data_key="heldUntil")
    total_price = Money(data_key="totalPrice")
    currency = fields.String()


class TicketHoldFailedEvent(ReadmeContract):
    """The booking's hold could not be made; nothing changed."""

    booking_id = booking_id()
    event_id = event_id()
    reason = fields.String()
    requested = fields.Integer()
    available = fields.Integer()


class TicketReservedEvent(BookingTickets, ReadmeContract):
    """The booking's tickets are reserved."""


class TicketReservationFailedEvent(ReadmeContract):
    """The booking's tickets could not be reserved; nothing changed."""

    booking_id = booking_id()
    event_id = event_id()
    reason = fields.String()


class TicketsReleasedEvent(BookingTickets, ReadmeContract):
    """These tickets of the booking are Available again."""


class TicketHoldExpiredEvent(BookingTickets, ReadmeContract):
    """The booking's hold ran out; the tickets are Available again."""


PUBLISHED = (
    TicketHeldEvent,
    TicketHoldFailedEvent,
    TicketReservedEvent,
    TicketReservationFailedEvent,
    TicketsReleasedEvent,
    TicketHoldExpiredEvent,
)
