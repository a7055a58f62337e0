"""The `ticketer` set: what the original services' code sends and expects.

Their Booking saga publishes `HoldTickets`, `ReserveTickets` and `ReleaseTickets` and
correlates every answer on `bookingId`. It reads `TicketsReservedEvent` after a *hold*
(its `ticketIds` and `totalPrice`), and `BookingFailedEvent` in any state; it never
subscribes to `TicketReservationFailedEvent` or `BookingConfirmedEvent`, which the
original Ticket service published all the same. The types follow the .NET records:
`TicketsReservedEvent.eventId` is an `int` there, decimals travel as JSON strings.
"""

from marshmallow import fields

from app.messaging.contracts.base import (
    BookingTickets,
    Contract,
    CustomerId,
    HoldRequest,
    Money,
    UtcTime,
    booking_id,
    event_id,
    number_of_tickets,
)

SET = "ticketer"
MESSAGES = "SharedLibrary.Contracts.Messages"
EVENTS = "SharedLibrary.Contracts.Events"


class Message(Contract):
    """A request of the `ticketer` set."""

    namespace = MESSAGES
    contract_set = SET


class Event(Contract):
    """An answer of the `ticketer` set."""

    namespace = EVENTS
    contract_set = SET


class HoldTickets(HoldRequest, Message):
    """Hold `numberOfTickets` seats for the booking (`customerId` may be null or "")."""


class ReserveTickets(BookingTickets, Message):
    """Reserve (the saga: confirm) the booking's held tickets."""

    customer_id = CustomerId(allow_none=True, data_key="customerId")


class ReleaseTickets(BookingTickets, Message):
    """Release the booking's tickets (the saga's compensation after a failed payment)."""

    reason = fields.String(allow_none=True)


class TicketsReservedEvent(BookingTickets, Event):
    """The answer to a successful hold: the seats, their number and their total price."""

    number_of_tickets = number_of_tickets()
    total_price = Money(data_key="totalPrice")
    booking_date = UtcTime(data_key="bookingDate")


class TicketReservationFailedEvent(Event):
    """The answer to a hold that could not be made."""

    booking_id = booking_id()
    reason = fields.String(allow_none=True)


class BookingConfirmedEvent(Event):
    """The answer to a successful reserve."""

    booking_id = booking_id()
    customer_id = CustomerId(data_key="customerId")
    event_id = event_id()
    number_of_tickets = number_of_tickets()
    created_at = UtcTime(data_key="createdAt")
    booking_confirmed_at = UtcTime(allow_none=True, data_key="bookingConfirmedAt")


class BookingFailedEvent(Event):
    """The booking failed: the answer to a reserve that could not be made, and to a failed hold."""

    booking_id = booking_id()
    reason = fields.String()
    event_id = fields.Integer(data_key="eventId")


PUBLISHED = (TicketsReservedEvent, TicketReservationFailedEvent, BookingConfirmedEvent, BookingFailedEvent)
