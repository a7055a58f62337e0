"""What both doors of event creation carry: a number of tickets, or the layout of a seated event.

`EventPublishedEvent` (the `readme` set) and Spring's `CreateEventTicket` create an
event's general-admission tickets from `numberOfTickets`, or its seats from a `layout`
(SPEC §8). The layout is read like the rest of a message, property names in any case and
unknown properties ignored, and handed on as the camelCase document the domain validates.
"""

import marshmallow as ma
from marshmallow import fields, validate

from app.messaging.contracts.base import Contract, event_id, number_of_tickets
from app.tickets.layouts import LayoutSchema


def _shape(field):
    """Return what a field of a schema reads: ("object", {name: shape}), ("list", shape), ("map", shape) or None."""
    if isinstance(field, ma.Schema):
        return "object", {f.data_key or name: _shape(f) for name, f in field.fields.items()}
    if isinstance(field, fields.Nested):
        return _shape(field.schema)
    if isinstance(field, fields.List):
        return "list", _shape(field.inner)
    if isinstance(field, fields.Dict) and field.value_field is not None:
        return "map", _shape(field.value_field)
    return None


def _recased(value, shape):
    """Return `value` with the property names of `shape` as it spells them, and no others; values unchecked."""
    if shape is None:
        return value
    kind, inner = shape
    if kind == "list" and isinstance(value, list):
        return [_recased(item, inner) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {key: _recased(item, inner) for key, item in value.items()}
    if kind == "object" and isinstance(value, dict):
        names = {name.lower(): name for name in inner}
        known = {names[str(key).lower()]: item for key, item in value.items() if str(key).lower() in names}
        return {name: _recased(item, inner[name]) for name, item in known.items()}
    return value


class Document(fields.Field):
    """A JSON object in the shape of `schema`, read with its property names in any case; not validated here."""

    def __init__(self, schema, **kwargs):
        super().__init__(**kwargs)
        self.shape = _shape(schema())

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise ma.ValidationError("Must be a JSON object.")
        return _recased(value, self.shape)


class EventCreation(Contract):
    """Create an event's tickets: `numberOfTickets` of general admission, or the seats of a `layout`.

    With a layout, `numberOfTickets` may be left out (null, or 0: a .NET `int` left unset);
    given, it must be the layout's number of seats.
    """

    event_id = event_id()
    number_of_tickets = number_of_tickets(allow_none=True, validate=validate.Range(min=0))
    layout = Document(LayoutSchema, allow_none=True)

    @ma.post_load
    def count_or_layout(self, data, **_kwargs):
        """Require a number of tickets when there is no layout; read 0 as none."""
        count = data.get("number_of_tickets") or None
        if count is None and data.get("layout") is None:
            raise ma.ValidationError("Give numberOfTickets (1 or more), or a layout.", "numberOfTickets")
        return data | {"number_of_tickets": count}
