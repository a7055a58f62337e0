"""What every message contract shares: its name, case-insensitive parsing, camelCase rendering."""

from datetime import UTC

import marshmallow as ma
from marshmallow import fields, validate

MAX_EVENT_ID = 2**63 - 1
MAX_TICKETS_PER_MESSAGE = 1_000
MAX_CATEGORY = 32  # a price category's code, as a layout names it


class Contract(ma.Schema):
    """A message type. `namespace` None stands for the configured `MESSAGE_NAMESPACE`.

    `contract_set` names the set it belongs to: a message is answered in its own set.
    """

    namespace = None
    contract_set = None

    class Meta:
        unknown = ma.EXCLUDE

    @classmethod
    def type_name(cls):
        """Return the message type's name, as in `{namespace}:{TypeName}`."""
        return cls.__name__

    @classmethod
    def full_name(cls, namespace):
        """Return `{namespace}:{TypeName}`: the name of the type's exchange, in `namespace` unless fixed."""
        return f"{cls.namespace or namespace}:{cls.type_name()}"

    @classmethod
    def urn(cls, namespace):
        """Return the MassTransit message type URN."""
        return f"urn:message:{cls.full_name(namespace)}"

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
        return schema.load({by_lower.get(str(key).lower(), key): value for key, value in payload.items()})

    @classmethod
    def render(cls, **values):
        """Return the camelCase message body for these snake_case values."""
        return cls().dump(values)


def utc_text(moment):
    """Return an aware datetime as System.Text.Json writes a UTC DateTime: `2026-11-29T14:05:03.12Z`."""
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
    return f"{text}Z"


class UtcTime(fields.DateTime):
    """A time as .NET writes and reads it: ISO 8601 in UTC with `Z`; read with or without an offset."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if isinstance(value, str):
            value = fields.DateTime()._deserialize(value, attr, obj)
        return utc_text(value if value.tzinfo else value.replace(tzinfo=UTC))


class Money(fields.Decimal):
    """An amount as MassTransit's serializer writes a .NET decimal: a JSON string such as "50.00"."""

    def __init__(self, **kwargs):
        super().__init__(places=2, as_string=True, **kwargs)


class Flag(fields.Boolean):
    """A .NET `bool`: JSON `true` or `false`; `null` (an unset `bool?`) or nothing reads as false."""

    def __init__(self, **kwargs):
        super().__init__(load_default=False, **kwargs)

    def deserialize(self, value, attr=None, data=None, **kwargs):
        """Read `null` as false; anything else must be a JSON boolean."""
        return False if value is None else super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class CustomerId(fields.Field):
    """A customer id as peers send it: text, a GUID, a number, or nothing (`null`, `""`)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ma.ValidationError("customerId must be text.")
        text = str(value)
        if len(text) > 128:
            raise ma.ValidationError("customerId must be at most 128 characters.")
        return text

    def _serialize(self, value, attr, obj, **kwargs):
        return "" if value is None else str(value)


def event_id(**kwargs):
    """Return the `eventId` field: a positive 64-bit integer."""
    return fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=MAX_EVENT_ID),
                          data_key="eventId", **kwargs)


def booking_id(required=True):
    """Return the `bookingId` field: a GUID."""
    return fields.UUID(required=required, allow_none=not required, data_key="bookingId")


def ticket_ids(required=False):
    """Return the `ticketIds` field: up to 1,000 GUIDs."""
    return fields.List(fields.UUID(), required=required, allow_none=not required,
                       validate=validate.Length(max=MAX_TICKETS_PER_MESSAGE), data_key="ticketIds")


def number_of_tickets(**kwargs):
    """Return the `numberOfTickets` field: an integer."""
    return fields.Integer(strict=True, data_key="numberOfTickets", **kwargs)


class BookingTickets(Contract):
    """The fields of every message about some tickets of a booking: `bookingId`, `eventId`, `ticketIds`."""

    booking_id = booking_id()
    event_id = event_id()
    ticket_ids = ticket_ids(required=True)


class HoldRequest(Contract):
    """A hold as either set asks for it: by quantity or by id, in the lenient shapes of .NET records.

    A .NET record serializes every property, so a hold may carry both `numberOfTickets`
    and `ticketIds`: it is by ids when ids are given and the count is 0, null or their
    number; by quantity when the ids are null or empty. A quantity hold of a seated event
    may ask for seats of one `category` and for `adjacent` ones (SPEC §8).
    """

    booking_id = booking_id()
    event_id = event_id()
    number_of_tickets = number_of_tickets(allow_none=True,
                                          validate=validate.Range(min=0, max=MAX_TICKETS_PER_MESSAGE))
    ticket_ids = ticket_ids()
    customer_id = CustomerId(allow_none=True, data_key="customerId")
    hold_seconds = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1),
                                  data_key="holdSeconds")
    category = fields.String(allow_none=True, validate=validate.Length(max=MAX_CATEGORY))
    adjacent = Flag()

    @ma.post_load
    def choose(self, data, **_kwargs):
        """Keep exactly one of `ticket_ids` and `number_of_tickets`: the one the hold is made by.

        A `category` of "" stands for none, as a null one does.
        """
        ids = data.get("ticket_ids") or None
        count = data.get("number_of_tickets") or None
        if ids is not None:
            if count not in (None, len(ids)):
                raise ma.ValidationError(
                    f"numberOfTickets is {count} but {len(ids)} ticketIds are given.", "numberOfTickets")
            count = None
        elif count is None:
            raise ma.ValidationError("Give numberOfTickets or ticketIds.", "numberOfTickets")
        return data | {"ticket_ids": ids, "number_of_tickets": count, "customer_id": data.get("customer_id"),
                       "category": data.get("category") or None}
