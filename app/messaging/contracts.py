"""Message contracts of the booking saga, defined once for parsing and for publishing.

Property names are camelCase on the wire and read case-insensitively (MassTransit
peers may send PascalCase). Unknown properties are ignored: a peer may add fields.
"""

import marshmallow as ma
from marshmallow import fields, validate

MAX_EVENT_ID = 2**63 - 1
MAX_TICKETS_PER_MESSAGE = 1_000


def _event_id():
    return fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=MAX_EVENT_ID),
                          data_key="eventId")


def _booking_id(required=True):
    return fields.UUID(required=required, allow_none=not required, data_key="bookingId")


def _ticket_ids(required=False):
    return fields.List(fields.UUID(), required=required, allow_none=not required,
                       validate=validate.Length(max=MAX_TICKETS_PER_MESSAGE), data_key="ticketIds")


class Contract(ma.Schema):
    """A message type; its class name is its MassTransit type name."""

    class Meta:
        unknown = ma.EXCLUDE

    @classmethod
    def type_name(cls):
        """Return the message type's name, as in `{namespace}:{TypeName}`."""
        return cls.__name__

    @classmethod
    def parse(cls, payload):
        """Validate a message body whose property names may be in any case; return snake_case fields.

        :raises marshmallow.ValidationError: a field is missing or has the wrong type.
        """
        if not isinstance(payload, dict):
            raise ma.ValidationError("The message body must be a JSON object.")
        schema = cls()
        keys = [field.data_key or name for name, field in schema.fields.items()]
        by_lower = {key.lower(): key for key in keys}
        return schema.load({by_lower.get(key.lower(), key): value for key, value in payload.items()})

    @classmethod
    def render(cls, **values):
        """Return the camelCase message body for these snake_case values."""
        return cls().dump(values)


class EventPublishedEvent(Contract):
    """An event went on sale: create its tickets."""

    event_id = _event_id()
    number_of_tickets = fields.Integer(strict=True, required=True, validate=validate.Range(min=1),
                                       data_key="numberOfTickets")


class HoldTicketsRequest(Contract):
    """Hold seats for a booking, by quantity or by id."""

    booking_id = _booking_id()
    event_id = _event_id()
    number_of_tickets = fields.Integer(strict=True, allow_none=True,
                                       validate=validate.Range(min=0, max=MAX_TICKETS_PER_MESSAGE),
                                       data_key="numberOfTickets")
    ticket_ids = _ticket_ids()
    customer_id = fields.Raw(allow_none=True, data_key="customerId")
    hold_seconds = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1),
                                  data_key="holdSeconds")


class ReserveTicketsRequest(Contract):
    """Reserve a booking's tickets."""

    booking_id = _booking_id()
    event_id = _event_id()
    ticket_ids = _ticket_ids(required=True)


class ReleaseTicketsRequest(Contract):
    """Release a booking's tickets."""

    booking_id = _booking_id()
    event_id = _event_id()
    ticket_ids = _ticket_ids(required=True)
    reason = fields.String(allow_none=True)


class TicketHeldEvent(Contract):
    """The booking holds these tickets until `heldUntil`."""

    booking_id = _booking_id()
    event_id = _event_id()
    ticket_ids = _ticket_ids(required=True)
    held_until = fields.DateTime(data_key="heldUntil")


class TicketHoldFailedEvent(Contract):
    """The booking's hold could not be made; nothing changed."""

    booking_id = _booking_id()
    event_id = _event_id()
    reason = fields.String()
    requested = fields.Integer()
    available = fields.Integer()


class TicketReservedEvent(Contract):
    """The booking's tickets are reserved."""

    booking_id = _booking_id()
    event_id = _event_id()
    ticket_ids = _ticket_ids(required=True)


class TicketReservationFailedEvent(Contract):
    """The booking's tickets could not be reserved; nothing changed."""

    booking_id = _booking_id()
    event_id = _event_id()
    reason = fields.String()


class TicketsReleasedEvent(Contract):
    """These tickets of the booking are Available again."""

    booking_id = _booking_id()
    event_id = _event_id()
    ticket_ids = _ticket_ids(required=True)


class TicketHoldExpiredEvent(Contract):
    """The booking's hold ran out; the tickets are Available again."""

    booking_id = _booking_id()
    event_id = _event_id()
    ticket_ids = _ticket_ids(required=True)


CONSUMED = {
    "event-published": EventPublishedEvent,
    "hold-tickets": HoldTicketsRequest,
    "reserve-tickets": ReserveTicketsRequest,
    "release-tickets": ReleaseTicketsRequest,
}
PUBLISHED = (
    TicketHeldEvent,
    TicketHoldFailedEvent,
    TicketReservedEvent,
    TicketReservationFailedEvent,
    TicketsReleasedEvent,
    TicketHoldExpiredEvent,
)
