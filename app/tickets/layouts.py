"""Seated events: an event's layout (sections, rows, seats, price categories) and its settings.

A layout is a JSON document, the same through both doors (`PUT .../layout` and an
`EventPublishedEvent` that carries one):

    {"currency": "EUR", "maxTicketsPerCustomer": 6,
     "categories": {"A": {"name": "Stalls front", "price": "120.00"}, "B": {"price": "80.00"}},
     "sections": [{"name": "Stalls", "rows": [{"name": "A", "seats": 30, "category": "A"},
                                              {"name": "B", "seats": ["1", "2", "3"], "category": "B"}]}]}

`seats` is a count (seats labelled 1..n) or the labels in their order along the row.
Rows are ranked front first in the order given, across sections: that rank, the seat's
position along its row and the row's length are what adjacent-seat holds choose by.
"""

import json
from dataclasses import dataclass

import marshmallow as ma
from flask import current_app
from marshmallow import fields, validate
from sqlalchemy import text

from app import cache, metrics
from app.errors import Conflict, InvalidRequest, NotFound
from app.extensions import db
from app.models import EventSettings
from app.tickets.locking import event_keys, redis_locks
from app.transaction import transaction

LABEL = validate.Length(min=1, max=32)
MAX_PRICE = 10**10  # tickets.price is numeric(12, 2)

# Every seat of the layout in one statement: one JSON record per row, expanded by
# generate_series into its seats, labelled by the row's labels or by their position.
INSERT_SEATS_SQL = text(
    """
    INSERT INTO tickets (event_id, section, row_label, seat_label, row_rank, seat_position, row_seats,
                         category, price)
    SELECT :event_id, r.section, r.name, COALESCE(r.labels ->> (s.position - 1), s.position::text),
           r.rank, s.position, r.seats, r.category, r.price
      FROM jsonb_to_recordset(CAST(:rows AS jsonb))
           AS r(section text, name text, rank integer, seats integer, labels jsonb, category text, price numeric)
     CROSS JOIN LATERAL generate_series(1, r.seats) AS s(position)
    """
)
# Two layouts of one event are made one after the other, with or without Redis.
LAYOUT_LOCK_SQL = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
EVENT_HAS_TICKETS_SQL = text("SELECT EXISTS (SELECT 1 FROM tickets WHERE event_id = :event_id)")


def _refuse_repeated_names(items, message, field):
    """Refuse a list of sections or rows in which two have one name.

    :raises ValidationError: a name is repeated.
    """
    names = [item["name"] for item in items]
    if len(set(names)) != len(names):
        raise ma.ValidationError(message, field)


class SeatsField(fields.Field):
    """A row's seats: how many (labelled 1..n), or their labels in order along the row."""

    default_error_messages = {"invalid": "Give a number of seats (1 or more) or a list of seat labels."}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, int) and not isinstance(value, bool):
            if value < 1:
                raise self.make_error("invalid")
            return value
        if isinstance(value, list) and value:
            labels = fields.List(fields.String(validate=LABEL)).deserialize(value)
            if len(set(labels)) != len(labels):
                raise ma.ValidationError("Seat labels must be distinct within a row.")
            return labels
        raise self.make_error("invalid")


class CategorySchema(ma.Schema):
    """A price category: an optional name and the price of each of its seats."""

    name = fields.String(load_default=None, validate=validate.Length(max=64))
    price = fields.Decimal(required=True, places=2, as_string=True, metadata={"type": "string", "format": "decimal"})

    @ma.validates("price")
    def price_in_range(self, price, **_):
        """Refuse a negative price, or one a ticket's price column cannot hold."""
        if not 0 <= price < MAX_PRICE:
            raise ma.ValidationError(f"Give a price from 0 to under {MAX_PRICE:,}.")


class RowSchema(ma.Schema):
    """A row: its name, its seats, and their category."""

    name = fields.String(required=True, validate=LABEL)
    seats = SeatsField(required=True)
    category = fields.String(required=True, validate=LABEL)


class SectionSchema(ma.Schema):
    """A section: its name and its rows, front first."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    rows = fields.List(fields.Nested(RowSchema), required=True, validate=validate.Length(min=1))

    @ma.validates_schema
    def distinct_rows(self, data, **_):
        """Refuse a section that names a row twice."""
        _refuse_repeated_names(data["rows"], "Row names must be distinct within a section.", "rows")


class LayoutSchema(ma.Schema):
    """An event's layout: currency, per-customer limit, price categories and sections."""

    currency = fields.String(load_default=None,
                             validate=validate.Regexp(r"^[A-Z]{3}$", error="Give an ISO 4217 code such as EUR."))
    max_tickets_per_customer = fields.Integer(strict=True, load_default=None, allow_none=True,
                                              validate=validate.Range(min=1), data_key="maxTicketsPerCustomer")
    categories = fields.Dict(keys=fields.String(validate=LABEL), values=fields.Nested(CategorySchema),
                             required=True, validate=validate.Length(min=1))
    sections = fields.List(fields.Nested(SectionSchema), required=True, validate=validate.Length(min=1))

    @ma.validates_schema
    def distinct_sections(self, data, **_):
        """Refuse a layout that names a section twice."""
        _refuse_repeated_names(data["sections"], "Section names must be distinct.", "sections")

    @ma.validates_schema
    def known_categories(self, data, **_):
        """Refuse a row whose category the layout does not price."""
        unknown = sorted({row["category"] for section in data["sections"] for row in section["rows"]}
                         - set(data["categories"]))
        if unknown:
            raise ma.ValidationError(f"Unknown categories: {', '.join(unknown)}; price them in categories.",
                                     "sections")


@dataclass(frozen=True)
class LayoutResult:
    """What `set_layout` did: the event's layout as stored, its seat count, and whether it was created now."""

    layout: dict
    seats: int
    created: bool


def seat_count(layout):
    """Return the number of seats of a parsed layout: a row's `seats` is a count or its labels."""
    return sum(row["seats"] if isinstance(row["seats"], int) else len(row["seats"])
               for section in layout["sections"] for row in section["rows"])


def _document(layout):
    """Return the layout as stored and shown: camelCase, prices as strings, every field present."""
    return LayoutSchema().dump(layout)


def _rows(layout):
    """Return one record per row for INSERT_SEATS_SQL: where it is, its seats, category and price."""
    records, rank = [], 0
    for section in layout["sections"]:
        for row in section["rows"]:
            rank += 1
            seats = row["seats"]
            records.append({
                "section": section["name"], "name": row["name"], "rank": rank,
                "seats": seats if isinstance(seats, int) else len(seats),
                "labels": None if isinstance(seats, int) else seats,
                "category": row["category"], "price": str(layout["categories"][row["category"]]["price"]),
            })
    return records


def parse_layout(document):
    """Validate a layout document (camelCase, as sent) and return it parsed, as `checked_layout` does.

    :raises InvalidRequest: the document is malformed, names a row, section or seat twice,
        uses an unpriced category, or has more seats than `BULK_MAX_TICKETS`.
    """
    try:
        layout = LayoutSchema().load(document)
    except ma.ValidationError as exc:
        raise InvalidRequest("The layout is invalid; errors says where.", fields=exc.messages) from exc
    return checked_layout(layout)


def checked_layout(layout):
    """Return a parsed layout with its currency (`DEFAULT_CURRENCY` when it names none).

    :raises InvalidRequest: it has more seats than `BULK_MAX_TICKETS`.
    """
    limit = current_app.config["BULK_MAX_TICKETS"]
    seats = seat_count(layout)
    if seats > limit:
        message = f"A layout has at most {limit:,} seats here; this one has {seats:,}."
        raise InvalidRequest(message, fields={"sections": [message]})
    return layout | {"currency": layout["currency"] or current_app.config["DEFAULT_CURRENCY"]}


def set_layout(*, event_id, layout):
    """Create the event's seats and settings from a parsed layout, once.

    The same layout again changes nothing. Every seat is inserted in one statement, in
    one transaction with the settings, under the event's lock.

    :raises Conflict: the event has another layout, or tickets made without one.
    """
    document = _document(layout)
    seats = seat_count(layout)
    with transaction():
        redis_locks(event_keys(event_id), ttl_seconds=current_app.config["DB_STATEMENT_TIMEOUT_MS"] / 1000 + 5)
        db.session.execute(LAYOUT_LOCK_SQL, {"key": f"layout:{event_id}"})
        existing = db.session.get(EventSettings, event_id)
        if existing is not None:
            if existing.layout != document:
                raise Conflict(f"Event {event_id} already has another layout; its seats stay as they are.")
            return LayoutResult(existing.layout, existing.seats, created=False)
        if db.session.execute(EVENT_HAS_TICKETS_SQL, {"event_id": event_id}).scalar_one():
            raise Conflict(f"Event {event_id} already has tickets made without a layout.")
        db.session.add(EventSettings(
            event_id=event_id, currency=layout["currency"], layout=document, seats=seats,
            max_tickets_per_customer=layout["max_tickets_per_customer"],
            categories=document["categories"],
        ))
        db.session.flush()
        db.session.execute(INSERT_SEATS_SQL, {"event_id": event_id, "rows": json.dumps(_rows(layout))})
        cache.invalidate_after_transaction(event_ids=[event_id], frees_seats=True,
                                           categories=layout["categories"])
    metrics.TICKETS_CREATED.labels("layout").inc(seats)
    return LayoutResult(document, seats, created=True)


@dataclass(frozen=True)
class Settings:
    """What holds need of an event's settings: its currency, categories and per-customer limit."""

    currency: str
    categories: dict
    max_tickets_per_customer: int | None


_known = {}  # event id -> Settings: an event's settings never change once made (another layout is refused)
MAX_KNOWN = 10_000


def settings_of(event_id):
    """Return the event's settings (kept in this process once read), or None for an event without a layout."""
    settings = _known.get(event_id)
    if settings is None:
        row = db.session.get(EventSettings, event_id)
        if row is None:
            return None
        if len(_known) >= MAX_KNOWN:
            _known.clear()
        settings = _known[event_id] = Settings(row.currency, dict(row.categories), row.max_tickets_per_customer)
    return settings


def get_layout(event_id):
    """Return the event's layout as stored, and its number of seats.

    :raises NotFound: the event has no layout.
    """
    row = db.session.get(EventSettings, event_id)
    if row is None or row.layout is None:
        raise NotFound(f"Event {event_id} has no seat layout.")
    return row.layout, row.seats

