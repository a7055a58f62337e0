"""A bare Flask + psycopg2 app running the service's SQL: the yardstick of the API benchmarks.

No ORM, no marshmallow, no metrics, no tracing, no Redis: a pooled connection per
request and the statements the service sends for a hold (by quantity or by ids) and a
point read, as SQLAlchemy renders them for psycopg2 (`statements.py`). The ratio app/baseline
is what the service's own layers cost on top of the same database work.

    BASELINE_DSN=postgresql://postgres@127.0.0.1/tickets_bench_1 gunicorn -w 4 --chdir bench baseline_app:app
"""

import contextlib
import functools
import json
import os
import uuid

import psycopg2
import psycopg2.errors
import psycopg2.pool
import statements as sql
from flask import Flask, Response, request

HOLD_SECONDS = 600.0
OPTIONS = "-c statement_timeout=60000 -c lock_timeout=2000 -c timezone=UTC -c application_name=bench-baseline"

app = Flask(__name__)


class Refused(Exception):
    """The hold cannot be made (409) or is invalid (422)."""

    def __init__(self, message, status=409):
        super().__init__(message)
        self.status = status


@functools.cache
def _pool():
    # Made on first use, in the worker, after gunicorn has forked.
    return psycopg2.pool.SimpleConnectionPool(1, 2, os.environ["BASELINE_DSN"], options=OPTIONS)


@contextlib.contextmanager
def _cursor():
    """Yield a cursor in one transaction: committed at the end, rolled back on error."""
    connection = _pool().getconn()
    try:
        with connection, connection.cursor() as cursor:
            yield cursor
    finally:
        _pool().putconn(connection)


def _json(document, status=200, headers=None):
    return Response(json.dumps(document, default=str), status, headers, mimetype="application/json")


def _error(message, status):
    return _json({"code": status, "status": "Conflict" if status == 409 else "Unprocessable Entity",
                  "message": message}, status)


def _pick_by_quantity(cursor, event_id, count):
    params = {"event_id": event_id, "count": count}
    cursor.execute(sql.PICK_AVAILABLE, params)
    picked = [row[0] for row in cursor.fetchall()]
    if len(picked) < count:
        cursor.execute(sql.PICK_EXPIRED, params | {"count": count - len(picked)})
        picked += [row[0] for row in cursor.fetchall()]
    if len(picked) < count:
        cursor.execute(sql.COUNT_FREE, params)
        raise Refused(f"Not enough tickets available for event {event_id}: asked for {count}"
                      f" ({cursor.fetchone()[0]} free).")
    return picked


def _check_given(cursor, event_id, booking_id, ticket_ids):
    cursor.execute(sql.LOCK, {"ids": ticket_ids})
    rows = cursor.fetchall()  # id, event_id, status, booking_id, held_until, version, updated_at, hold_expired
    if len(rows) < len(set(ticket_ids)):
        raise Refused("Tickets not found.")
    if any(row[1] != event_id for row in rows):
        raise Refused(f"Tickets do not belong to event {event_id}.", 422)
    taken = [f"{row[0]} is {row[2]}" for row in rows
             if not (row[2] == "Available" or (row[2] == "Held" and (row[7] or row[3] == booking_id)))]
    if taken:
        raise Refused(f"Tickets cannot be held: {', '.join(taken)}.")
    return [row[0] for row in rows]


def _hold(cursor, event_id, booking_id, number, ticket_ids):
    """Hold seats for the booking as the service does; return (ticket ids, held until)."""
    cursor.execute(sql.CURRENT_HOLD, {"booking_key": booking_id, "booking_id": booking_id, "event_id": event_id})
    current = cursor.fetchall()
    if current:
        return [row[0] for row in current], current[0][1]
    move = {"to_status": "Held", "booking_id": booking_id, "customer_id": None, "keep_owner": False,
            "hold_seconds": HOLD_SECONDS, "source": "api", "correlation_id": request.headers.get("X-Correlation-ID")}
    moved = []
    if not ticket_ids:
        cursor.execute(sql.HOLD_AVAILABLE, move | {"event_id": event_id, "count": number})
        moved = cursor.fetchall()  # id, event_id, from_status, booking_id, held_until, updated_at, category, price
        if not moved:  # another request of the booking may have held seats while this one waited for its lock
            cursor.execute(sql.CURRENT_HOLD, {"booking_key": booking_id, "booking_id": booking_id,
                                              "event_id": event_id})
            current = cursor.fetchall()
            if current:
                return [row[0] for row in current], current[0][1]
    if ticket_ids:
        picked = _check_given(cursor, event_id, booking_id, ticket_ids)
        cursor.execute(sql.HOLD_GIVEN, move | {"ids": picked, "event_id": event_id})
        moved = cursor.fetchall()
        if not moved:  # another request of the booking held seats while this one waited for its lock
            cursor.execute(sql.CURRENT_HOLD, {"booking_key": booking_id, "booking_id": booking_id,
                                              "event_id": event_id})
            current = cursor.fetchall()
            return [row[0] for row in current], current[0][1]
    if not moved:
        cursor.execute(sql.MOVE, move | {"ids": _pick_by_quantity(cursor, event_id, number)})
        moved = cursor.fetchall()
    return sorted(row[0] for row in moved), moved[0][4]


def _announce(cursor, event_id, booking_id, ticket_ids, held_until):
    facts = {"booking_id": booking_id, "event_id": event_id, "ticket_ids": ticket_ids, "held_until": held_until}
    context = {"correlationId": None, "message": None}
    cursor.execute(sql.OUTBOX, {"kinds": ["TicketsHeld"], "facts": [json.dumps(facts, default=str)],
                                "contexts": [json.dumps(context)]})


@app.post("/hold")
def hold():
    """Hold `numberOfTickets` seats or the given `ticketIds` for a booking: 200, or 409 when taken."""
    body = request.get_json()
    event_id, booking_id = body["eventId"], str(uuid.UUID(body["bookingId"]))
    ticket_ids = sorted(str(uuid.UUID(ticket_id)) for ticket_id in body.get("ticketIds") or ())
    try:
        with _cursor() as cursor:
            held, until = _hold(cursor, event_id, booking_id, body.get("numberOfTickets"), ticket_ids)
            _announce(cursor, event_id, booking_id, held, until)
    except Refused as refusal:
        return _error(str(refusal), refusal.status)
    except psycopg2.errors.LockNotAvailable:
        return _error("These tickets are being changed by another request; retry shortly.", 409)
    return _json({"bookingId": booking_id, "eventId": event_id, "ticketIds": held, "heldUntil": until.isoformat()})


@app.get("/ticket/<ticket_id>")
def ticket(ticket_id):
    """Read one ticket: 200, or 404."""
    with _cursor() as cursor:
        cursor.execute(sql.POINT_READ, {"id_1": str(uuid.UUID(ticket_id))})
        row = cursor.fetchone()
    if row is None:
        return _error(f"Ticket {ticket_id} was not found.", 404)
    document = dict(zip(sql.TICKET_FIELDS, row[:len(sql.TICKET_FIELDS)], strict=True))  # a ticket without a seat
    for name in ("heldUntil", "createdAt", "updatedAt"):
        document[name] = document[name] and document[name].isoformat()
    return _json(document, headers={"ETag": f'"{document["version"]}"'})


@app.get("/ping")
def ping():
    """Answer at once: the load generator's ceiling."""
    return "ok"
