"""Marshmallow schemas of the REST API: camelCase on the wire, validated strictly."""

import marshmallow as ma
from marshmallow import fields, validate

from app.models import TicketStatus
from app.tickets.layouts import LayoutSchema

MAX_EVENT_ID = 2**63 - 1
MAX_TICKET_IDS = 1_000
STATUSES = [status.value for status in TicketStatus]

EventId = fields.Integer(
    strict=True, required=True, validate=validate.Range(min=1, max=MAX_EVENT_ID), data_key="eventId",
    metadata={"example": 1},
)


class TicketSchema(ma.Schema):
    """TicketResponse: a ticket as the API shows it."""

    ticket_id = fields.UUID(attribute="id", data_key="ticketId")
    event_id = fields.Integer(data_key="eventId")
    status = fields.String(validate=validate.OneOf(STATUSES))
    booking_id = fields.UUID(allow_none=True, data_key="bookingId")
    held_until = fields.DateTime(allow_none=True, data_key="heldUntil")
    created_at = fields.DateTime(data_key="createdAt")
    updated_at = fields.DateTime(data_key="updatedAt")
    version = fields.Integer()
    section = fields.String(metadata={"description": "seated events only"})
    row = fields.String(attribute="row_label", metadata={"description": "seated events only"})
    seat = fields.String(attribute="seat_label", metadata={"description": "seated events only"})
    category = fields.String(metadata={"description": "seated events only: the seat's price category"})
    price = fields.Decimal(places=2, as_string=True,
                           metadata={"type": "string", "format": "decimal", "description": "seated events only"})

    @ma.post_dump
    def general_admission(self, data, **_):
        """Leave the seat fields out of a general-admission ticket's answer, which has none."""
        if data.get("seat") is None:
            for name in SEAT_FIELDS:
                data.pop(name, None)
        return data


SEAT_FIELDS = ("section", "row", "seat", "category", "price")

# What `POST /` answers: the ticket for quantity 1, an array of tickets for more.
ONE_OR_MANY_TICKETS = {"oneOf": [TicketSchema, {"type": "array", "items": TicketSchema}]}


class CreateTicketSchema(ma.Schema):
    """CreateTicketRequest: how many tickets to create for which event."""

    event_id = EventId
    quantity = fields.Integer(strict=True, required=True, validate=validate.Range(min=1))


class BulkCreationSchema(ma.Schema):
    """BulkCreationResponse."""

    event_id = fields.Integer(data_key="eventId")
    tickets_created = fields.Integer(data_key="ticketsCreated")
    message = fields.String()


class UpdateStatusSchema(ma.Schema):
    """UpdateStatusRequest: the status to move to (and, for a hold, its owner)."""

    status = fields.String(
        required=True,
        validate=validate.OneOf(STATUSES, error="Must be one of: {choices}."),
    )
    booking_id = fields.UUID(load_default=None, data_key="bookingId")


class TicketStatusSchema(ma.Schema):
    """TicketStatusResponse."""

    ticket_id = fields.UUID(data_key="ticketId")
    status = fields.String()
    previous_status = fields.String(data_key="previousStatus")
    updated_at = fields.DateTime(data_key="updatedAt")


class TicketBatchSchema(ma.Schema):
    """ReserveTicketsRequest / ReleaseTicketsRequest: 1 to 1,000 distinct ticket ids."""

    event_id = EventId
    ticket_ids = fields.List(
        fields.UUID(),
        required=True,
        validate=validate.Length(min=1, max=MAX_TICKET_IDS),
        data_key="ticketIds",
    )
    booking_id = fields.UUID(load_default=None, data_key="bookingId")

    @ma.validates("ticket_ids")
    def no_duplicates(self, ticket_ids, **_):
        """Refuse a list that names a ticket twice."""
        if len(set(ticket_ids)) != len(ticket_ids):
            raise ma.ValidationError("Ticket ids must be distinct.")


class TicketFilterSchema(ma.Schema):
    """Filters of `GET /`."""

    event_id = fields.Integer(
        strict=False, validate=validate.Range(min=1, max=MAX_EVENT_ID), data_key="eventId"
    )
    status = fields.String(validate=validate.OneOf(STATUSES, error="Must be one of: {choices}."))


class EventTicketsQuerySchema(ma.Schema):
    """Query of `GET /event/{eventId}`: an optional status and an optional page."""

    status = fields.String(validate=validate.OneOf(STATUSES, error="Must be one of: {choices}."))
    page = fields.Integer(validate=validate.Range(min=1))
    page_size = fields.Integer(validate=validate.Range(min=1, max=100_000))


class CountsSchema(ma.Schema):
    """How many tickets are in each status (expired holds count as available)."""

    total = fields.Integer()
    available = fields.Integer()
    held = fields.Integer()
    reserved = fields.Integer()
    sold = fields.Integer()
    cancelled = fields.Integer()


class EventSummarySchema(CountsSchema):
    """How many tickets an event has in each status, in all and per price category."""

    event_id = fields.Integer(data_key="eventId")
    categories = fields.Dict(keys=fields.String(), values=fields.Nested(CountsSchema),
                             metadata={"description": "seated events only: the counts of each category"})

    @ma.post_dump
    def general_admission(self, data, **_):
        """Leave the categories out of a general-admission event's summary, which has none."""
        if not data.get("categories"):
            data.pop("categories", None)
        return data


class SeatSchema(ma.Schema):
    """One seat of the seat map: no booking or customer ids."""

    seat = fields.String()
    ticket_id = fields.UUID(data_key="ticketId")
    status = fields.String(metadata={"description": "an expired hold shows as Available"})
    category = fields.String()
    price = fields.String()


class SeatRowSchema(ma.Schema):
    """A row of the seat map, its seats in order along it."""

    name = fields.String()
    seats = fields.List(fields.Nested(SeatSchema))


class SeatSectionSchema(ma.Schema):
    """A section of the seat map, its rows front first."""

    name = fields.String()
    rows = fields.List(fields.Nested(SeatRowSchema))


class SeatMapSchema(ma.Schema):
    """An event's seats by section and row, with their status and category."""

    event_id = fields.Integer(data_key="eventId")
    currency = fields.String()
    categories = fields.Dict(keys=fields.String(), values=fields.Dict())
    sections = fields.List(fields.Nested(SeatSectionSchema))


class LayoutAnswerSchema(LayoutSchema):
    """An event's layout as stored, with its event and its number of seats."""

    event_id = fields.Integer(data_key="eventId")
    seats = fields.Integer(metadata={"description": "seats the layout made"})


class StatusChangeSchema(ma.Schema):
    """One entry of a ticket's history."""

    from_status = fields.String(data_key="fromStatus")
    to_status = fields.String(data_key="toStatus")
    booking_id = fields.UUID(allow_none=True, data_key="bookingId")
    source = fields.String()
    correlation_id = fields.String(allow_none=True, data_key="correlationId")
    changed_at = fields.DateTime(data_key="changedAt")


class DependencySchema(ma.Schema):
    """One dependency's health."""

    status = fields.String(metadata={"description": "up or down"})
    latency_ms = fields.Float(data_key="latencyMs")
    error = fields.String()


class QueueHealthSchema(ma.Schema):
    """One consumed queue: its consumers and the messages waiting in it."""

    consumers = fields.Integer(metadata={"description": "0 when the queue does not exist"})
    backlog = fields.Integer(metadata={"description": "ready messages"})


class OutboxHealthSchema(ma.Schema):
    """The outbox: events written and not yet published."""

    backlog = fields.Integer()
    oldest_age_seconds = fields.Float(
        allow_none=True, data_key="oldestAgeSeconds", metadata={"description": "null when the backlog is empty"}
    )
    error = fields.String(metadata={"description": "why the outbox could not be read"})


class HealthSchema(ma.Schema):
    """The service's health: healthy, degraded or unhealthy, each dependency's, and why."""

    status = fields.String()
    problems = fields.List(fields.String(), metadata={"description": "what makes the service degraded or unhealthy"})
    checks = fields.Dict(keys=fields.String(), values=fields.Nested(DependencySchema))
    queues = fields.Dict(
        keys=fields.String(), values=fields.Nested(QueueHealthSchema),
        metadata={"description": "each consumed queue, when RabbitMQ answered"},
    )
    outbox = fields.Nested(OutboxHealthSchema, metadata={"description": "when PostgreSQL answered"})
    checked_at = fields.DateTime(data_key="checkedAt", metadata={"description": "when the (cached) check ran"})


class HoldRequestSchema(ma.Schema):
    """HoldTicketsRequest: hold `numberOfTickets` seats, or the given `ticketIds`, for a booking."""

    event_id = EventId
    booking_id = fields.UUID(required=True, data_key="bookingId")
    number_of_tickets = fields.Integer(
        strict=True, validate=validate.Range(min=1, max=MAX_TICKET_IDS), data_key="numberOfTickets"
    )
    ticket_ids = fields.List(
        fields.UUID(), validate=validate.Length(min=1, max=MAX_TICKET_IDS), data_key="ticketIds"
    )
    hold_seconds = fields.Integer(strict=True, validate=validate.Range(min=1), data_key="holdSeconds")
    customer_id = fields.String(validate=validate.Length(max=128), data_key="customerId",
                                metadata={"description": "the buyer: holds are counted against the event's limit"})
    category = fields.String(validate=validate.Length(min=1, max=32),
                             metadata={"description": "seated events: only seats of this price category"})
    adjacent = fields.Boolean(load_default=False, truthy={True}, falsy={False},
                              metadata={"description": "seated events: seats side by side in one row (the best block)"})

    @ma.validates("ticket_ids")
    def no_duplicates(self, ticket_ids, **_):
        """Refuse a list that names a ticket twice."""
        if len(set(ticket_ids)) != len(ticket_ids):
            raise ma.ValidationError("Ticket ids must be distinct.")

    @ma.validates_schema
    def one_way_to_choose(self, data, **_):
        """Ask for exactly one of a quantity or a list of ids."""
        if ("number_of_tickets" in data) == ("ticket_ids" in data):
            raise ma.ValidationError("Give exactly one of numberOfTickets or ticketIds.")


class HoldSchema(ma.Schema):
    """The tickets held for a booking, and until when."""

    booking_id = fields.UUID(data_key="bookingId")
    event_id = fields.Integer(data_key="eventId")
    ticket_ids = fields.List(fields.UUID(), data_key="ticketIds")
    held_until = fields.DateTime(data_key="heldUntil")
    total_price = fields.Decimal(places=2, as_string=True, data_key="totalPrice", metadata={
        "type": "string", "format": "decimal", "description": "the seats' prices (DEFAULT_TICKET_PRICE without one)"})
    currency = fields.String()
