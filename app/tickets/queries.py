"""Read tickets: one, a page, a whole event as a stream, an event's summary and seat map, a history."""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask import current_app
from sqlalchemy import func, select, text

from app import cache
from app.errors import NotFound
from app.extensions import db
from app.models import Ticket, TicketStatusChange
from app.tickets import layouts

# A general-admission ticket has no seat fields; a seat has all of them.
TICKET_JSON = """CASE WHEN row_rank IS NULL THEN json_build_object(
    'ticketId', id, 'eventId', event_id, 'status', status, 'bookingId', booking_id,
    'heldUntil', held_until, 'createdAt', created_at, 'updatedAt', updated_at, 'version', version
) ELSE json_build_object(
    'ticketId', id, 'eventId', event_id, 'status', status, 'bookingId', booking_id,
    'heldUntil', held_until, 'createdAt', created_at, 'updatedAt', updated_at, 'version', version,
    'section', section, 'row', row_label, 'seat', seat_label, 'category', category, 'price', price::text
) END::text"""

# PostgreSQL's OFFSET is a bigint: a page beyond it is as empty as any page past the end.
MAX_OFFSET = 2**63 - 1

# One row for the whole event (whole = 1) and one per category of its seats.
SUMMARY_SQL = text(
    """
    SELECT GROUPING(category) AS whole, category,
           count(*) AS total,
           count(*) FILTER (WHERE status = 'Available'
                               OR (status = 'Held' AND held_until <= now())) AS available,
           count(*) FILTER (WHERE status = 'Held' AND held_until > now()) AS held,
           count(*) FILTER (WHERE status = 'Reserved') AS reserved,
           count(*) FILTER (WHERE status = 'Sold') AS sold,
           count(*) FILTER (WHERE status = 'Cancelled') AS cancelled
      FROM tickets
     WHERE event_id = :event_id
     GROUP BY ROLLUP (category)
    """
)
COUNTS = ("total", "available", "held", "reserved", "sold", "cancelled")


@dataclass(frozen=True)
class EventSummary:
    """How many tickets an event has in each status, in all and per category; expired holds count as available."""

    event_id: int
    total: int
    available: int
    held: int
    reserved: int
    sold: int
    cancelled: int
    categories: dict


TICKET_COLUMNS = ("id", "event_id", "status", "booking_id", "held_until", "created_at", "updated_at", "version",
                  "section", "row_label", "seat_label", "category", "price")
DATETIME_COLUMNS = ("held_until", "created_at", "updated_at")


def _ticket_snapshot(ticket_id):
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        return None
    return {column: getattr(ticket, column) for column in TICKET_COLUMNS}


def _ticket_from_snapshot(snapshot):
    values = dict(snapshot)
    values["id"] = uuid.UUID(str(values["id"]))
    if values["booking_id"]:
        values["booking_id"] = uuid.UUID(str(values["booking_id"]))
    for column in DATETIME_COLUMNS:
        if values[column]:
            values[column] = datetime.fromisoformat(str(values[column]))
    if values.get("price") is not None:  # snapshots cached before seats had prices have none
        values["price"] = Decimal(str(values["price"]))
    return Ticket(**values)


def get_ticket(ticket_id):
    """Return one ticket, through the cache (a detached copy, not tracked by the session).

    :raises NotFound: no such ticket.
    """
    snapshot = cache.cached(
        "ticket", cache.ticket_key(ticket_id), current_app.config["CACHE_TICKET_SECONDS"],
        lambda: _ticket_snapshot(ticket_id),
    )
    if snapshot is None:
        raise NotFound(f"Ticket {ticket_id} was not found.")
    return _ticket_from_snapshot(snapshot)


def _filtered(statement, event_id, status):
    if event_id is not None:
        statement = statement.where(Ticket.event_id == event_id)
    if status is not None:
        statement = statement.where(Ticket.status == status)
    return statement


def list_tickets(*, event_id=None, status=None, offset=0, limit=100):
    """Return one page of tickets, ordered by event then id, and the total count."""
    page = _filtered(select(Ticket), event_id, status).order_by(Ticket.event_id, Ticket.id)
    tickets = list(db.session.scalars(page.offset(min(offset, MAX_OFFSET)).limit(limit)))
    total = db.session.scalar(_filtered(select(func.count()).select_from(Ticket), event_id, status))
    return tickets, total


def stream_event_tickets(*, event_id, status=None, offset=0, limit=None):
    """Yield the event's tickets as a JSON array, in chunks, from a server-side cursor.

    PostgreSQL renders each ticket's JSON, and the rows come in batches, so memory
    stays flat however many tickets the event has.
    """
    sql = f"SELECT {TICKET_JSON} FROM tickets WHERE event_id = :event_id"
    params = {"event_id": event_id}
    if status is not None:
        sql += " AND status = :status"
        params["status"] = status
    sql += " ORDER BY id OFFSET :offset"
    params["offset"] = min(offset, MAX_OFFSET)
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    batch = current_app.config["EVENT_STREAM_BATCH"]
    with db.engine.connect() as connection:
        result = connection.execution_options(stream_results=True, max_row_buffer=batch).execute(
            text(sql), params
        )
        separator = "["
        for rows in result.scalars().partitions(batch):
            yield separator + ",".join(rows)
            separator = ","
        yield "[]" if separator == "[" else "]"


def _summary_counts(event_id):
    counts = {"categories": {}} | dict.fromkeys(COUNTS, 0)
    for row in db.session.execute(SUMMARY_SQL, {"event_id": event_id}):
        found = {name: getattr(row, name) for name in COUNTS}
        if row.whole:
            counts |= found
        elif row.category is not None:
            counts["categories"][row.category] = found
    return counts


def event_summary(event_id):
    """Count the event's tickets by status, in all and per category, through a short-lived cache."""
    counts = cache.cached(
        "summary", cache.summary_key(event_id), current_app.config["CACHE_SUMMARY_SECONDS"],
        lambda: _summary_counts(event_id),
    )
    return EventSummary(event_id=event_id, **counts)


SEAT_MAP_SQL = text(
    """
    SELECT section, row_label, json_build_object(
               'seat', seat_label, 'ticketId', id,
               'status', CASE WHEN status = 'Held' AND held_until <= now() THEN 'Available' ELSE status END,
               'category', category, 'price', price::text)::text AS seat
      FROM tickets
     WHERE event_id = :event_id AND row_rank IS NOT NULL
     ORDER BY row_rank, seat_position
    """
)


def seat_map(event_id):
    """Return the event's seat map as JSON text chunks: sections, rows, seats with status and category.

    No booking or customer ids: anyone may see which seats are taken, not by whom.
    The seats come from a server-side cursor in batches, so memory stays flat.

    :raises NotFound: the event has no layout.
    """
    settings = layouts.settings_of(event_id)
    if settings is None:
        raise NotFound(f"Event {event_id} has no seat layout.")
    head = {"eventId": event_id, "currency": settings.currency, "categories": settings.categories}
    return _seat_map_chunks(event_id, json.dumps(head)[:-1])


def _seat_map_chunks(event_id, head):
    batch = current_app.config["EVENT_STREAM_BATCH"]
    yield head + ', "sections": ['
    section = row = None
    with db.engine.connect() as connection:
        result = connection.execution_options(stream_results=True, max_row_buffer=batch).execute(
            SEAT_MAP_SQL, {"event_id": event_id}
        )
        for rows in result.partitions(batch):
            chunk = []
            for found in rows:
                if found.section != section:
                    chunk.append("]}]}, " if section is not None else "")
                    chunk.append(f'{{"name": {json.dumps(found.section)}, "rows": [')
                    section, row = found.section, None
                if found.row_label != row:
                    chunk.append("]}, " if row is not None else "")
                    chunk.append(f'{{"name": {json.dumps(found.row_label)}, "seats": [')
                    row = found.row_label
                else:
                    chunk.append(", ")
                chunk.append(found.seat)
            yield "".join(chunk)
    yield ("]}]}" if section is not None else "") + "]}"


def ticket_history(ticket_id):
    """Return the ticket's status changes, oldest first.

    :raises NotFound: no such ticket and no recorded history.
    """
    changes = list(
        db.session.scalars(
            select(TicketStatusChange)
            .where(TicketStatusChange.ticket_id == ticket_id)
            .order_by(TicketStatusChange.id)
        )
    )
    if not changes and db.session.get(Ticket, ticket_id) is None:
        raise NotFound(f"Ticket {ticket_id} was not found.")
    return changes
