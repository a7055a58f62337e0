"""The service's statements as SQLAlchemy sends them to psycopg2, for the bare baseline.

Copied from app/tickets/holds.py, app/tickets/moves.py, app/outbox.py and inbox.py, and
`session.get(Ticket, id)` (picks ordered by id; the booking's advisory lock taken inside its
current-hold query; a quantity hold in one statement when there are enough Available seats,
else the current hold again, then the pick of Available then expired seats and the move).
General-admission holds only: the seated statements (categories, adjacent blocks, customer
limits) have no baseline. `drift()` tells which of them the service
no longer sends verbatim and which new ones it has, so a result can say when the
baseline runs other SQL than the service.
"""

import re

CURRENT_HOLD = """
    SELECT id, held_until, price
      FROM tickets
     WHERE (SELECT pg_advisory_xact_lock(hashtextextended(%(booking_key)s, 0))::text) = ''
       AND booking_id = %(booking_id)s::UUID AND event_id = %(event_id)s
       AND status = 'Held' AND held_until > now()
     ORDER BY id
"""
PICK_AVAILABLE = """
    SELECT id FROM tickets
     WHERE event_id = %(event_id)s AND status = 'Available'
     ORDER BY id
     LIMIT %(count)s
       FOR UPDATE SKIP LOCKED
"""
PICK_EXPIRED = """
    SELECT id FROM tickets
     WHERE event_id = %(event_id)s AND status = 'Held' AND held_until <= now()
     ORDER BY held_until
     LIMIT %(count)s
       FOR UPDATE SKIP LOCKED
"""
COUNT_FREE = """
    SELECT count(*) FROM tickets
     WHERE event_id = %(event_id)s
       AND (status = 'Available' OR (status = 'Held' AND held_until <= now()))
"""
LOCK = """
    SELECT id, event_id, status, booking_id, held_until, version, updated_at,
           (status = 'Held' AND held_until <= now()) AS hold_expired
      FROM tickets
     WHERE id = ANY(%(ids)s::UUID[])
     ORDER BY id
       FOR UPDATE
"""
_MOVE = """
    WITH old AS (
{source}
    ), changed AS (
        UPDATE tickets AS t
           SET status = %(to_status)s,
               booking_id = CASE WHEN %(to_status)s = 'Available' THEN NULL
                                 WHEN %(keep_owner)s THEN COALESCE(%(booking_id)s::UUID, t.booking_id)
                                 ELSE %(booking_id)s::UUID END,
               customer_id = CASE WHEN %(to_status)s = 'Available' THEN NULL
                                  WHEN %(customer_id)s IS NOT NULL THEN %(customer_id)s
                                  WHEN t.booking_id = CASE WHEN %(keep_owner)s
                                                           THEN COALESCE(%(booking_id)s::UUID, t.booking_id)
                                                           ELSE %(booking_id)s::UUID END
                                  THEN t.customer_id END,
               held_until = CASE WHEN %(to_status)s = 'Held'
                                 THEN now() + make_interval(secs => %(hold_seconds)s) END,
               version = t.version + 1,
               updated_at = now()
          FROM old
         WHERE t.id = old.id {guard}
        RETURNING t.id, t.event_id, old.status AS from_status, t.booking_id, t.held_until, t.updated_at,
                  t.category, t.price
    ), audited AS (
        INSERT INTO ticket_status_changes
               (ticket_id, from_status, to_status, booking_id, source, correlation_id)
        SELECT id, from_status, %(to_status)s, booking_id, %(source)s, %(correlation_id)s FROM changed
    )
    SELECT id, event_id, from_status, booking_id, held_until, updated_at, category, price FROM changed
"""
MOVE = _MOVE.format(source="        SELECT id, status FROM tickets WHERE id = ANY(%(ids)s::UUID[])", guard="")
HOLD_GIVEN = _MOVE.format(
    source="        SELECT id, status FROM tickets WHERE id = ANY(%(ids)s::UUID[])",
    guard="""AND NOT EXISTS (SELECT 1 FROM tickets
                              WHERE booking_id = %(booking_id)s::UUID AND event_id = %(event_id)s
                                AND status = 'Held' AND held_until > now() AND id <> ALL(%(ids)s::UUID[]))""",
)
HOLD_AVAILABLE = _MOVE.format(
    source="""        SELECT id, status FROM tickets
                   WHERE event_id = %(event_id)s AND status = 'Available'
                   ORDER BY id
                   LIMIT %(count)s
                     FOR UPDATE SKIP LOCKED""",
    guard="""AND (SELECT count(*) FROM old) = %(count)s
             AND NOT EXISTS (SELECT 1 FROM tickets
                              WHERE booking_id = %(booking_id)s::UUID AND event_id = %(event_id)s
                                AND status = 'Held' AND held_until > now())""",
)
OUTBOX = """
    INSERT INTO outbox_messages (message_type, body, headers)
    SELECT kind, CAST(facts AS jsonb), CAST(context AS jsonb)
      FROM unnest(CAST(%(kinds)s AS text[]), CAST(%(facts)s AS text[]), CAST(%(contexts)s AS text[]))
           WITH ORDINALITY AS recorded(kind, facts, context, n)
     ORDER BY n
"""
INBOX_CLAIM = """
    INSERT INTO inbox_messages (consumer, message_id) VALUES (%(consumer)s, %(message_id)s)
    ON CONFLICT DO NOTHING
    RETURNING message_id
"""
POINT_READ = (
    "SELECT tickets.id, tickets.event_id, tickets.status, tickets.booking_id, tickets.held_until,"
    " tickets.created_at, tickets.updated_at, tickets.version, tickets.section, tickets.row_label,"
    " tickets.seat_label, tickets.row_rank, tickets.seat_position, tickets.row_seats, tickets.category,"
    " tickets.price, tickets.customer_id \nFROM tickets \nWHERE tickets.id = %(id_1)s::UUID"
)
TICKET_FIELDS = ("ticketId", "eventId", "status", "bookingId", "heldUntil", "createdAt", "updatedAt", "version")

HOLD_STATEMENTS = {"CURRENT_HOLD": CURRENT_HOLD, "HOLD_AVAILABLE": HOLD_AVAILABLE, "HOLD_GIVEN": HOLD_GIVEN,
                   "PICK_AVAILABLE": PICK_AVAILABLE,
                   "PICK_EXPIRED": PICK_EXPIRED, "COUNT_FREE": COUNT_FREE, "LOCK": LOCK, "MOVE": MOVE,
                   "OUTBOX": OUTBOX, "INBOX_CLAIM": INBOX_CLAIM}


def _normal(statement):
    return re.sub(r"\s+", " ", statement).strip()


def _service_statements():
    """Return the module-level statements of the service's hold path by name, compiled for psycopg2."""
    from sqlalchemy.dialects.postgresql import psycopg2  # noqa: PLC0415 - only the drift check needs the app
    from sqlalchemy.sql.elements import TextClause  # noqa: PLC0415

    from app import outbox  # noqa: PLC0415
    from app.messaging import inbox  # noqa: PLC0415
    from app.tickets import holds, moves  # noqa: PLC0415

    dialect = psycopg2.dialect()
    found = {}
    for module in (holds, moves, outbox, inbox):
        for name, value in vars(module).items():
            variants = value.items() if isinstance(value, dict) else [("", value)]
            for variant, statement in variants:
                if isinstance(statement, TextClause):
                    label = f"{module.__name__.rsplit('.', 1)[1]}.{name}{'[' + variant + ']' if variant else ''}"
                    found[label] = _normal(str(statement.compile(dialect=dialect)))
    return found


def drift():
    """Return (baseline statements the service no longer sends, service statements the baseline lacks)."""
    service = _service_statements()
    ours = {_normal(statement) for statement in HOLD_STATEMENTS.values()}
    missing = [name for name, statement in HOLD_STATEMENTS.items() if _normal(statement) not in service.values()]
    return missing, [name for name, statement in service.items() if statement not in ours]
