"""Create tickets: PostgreSQL generates the rows, in one statement and one transaction."""

from flask import current_app
from sqlalchemy import select, text

from app import cache, metrics
from app.errors import Conflict, InvalidRequest, TooManyToCreate
from app.extensions import db
from app.models import Ticket
from app.tickets import idempotency, layouts
from app.tickets.locking import event_keys, redis_locks
from app.transaction import transaction

INSERT_SQL = text(
    "INSERT INTO tickets (event_id) SELECT :event_id FROM generate_series(1, :quantity) RETURNING *"
)
INSERT_BULK_SQL = text("INSERT INTO tickets (event_id) SELECT :event_id FROM generate_series(1, :quantity)")


def _check_quantity(quantity, limit_key, refusal=InvalidRequest, hint=""):
    limit = current_app.config[limit_key]
    if quantity > limit:
        message = f"quantity must be at most {limit:,} here{hint}."
        raise refusal(message, fields={"quantity": [message]})


def _statement_seconds():
    """Return how long a bulk insert may run (its statement timeout): its event lock must outlive it."""
    return current_app.config["DB_STATEMENT_TIMEOUT_MS"] / 1000 + 5


def _insert_many(event_id, quantity):
    """Insert `quantity` Available tickets of the event; return how many."""
    cache.invalidate_after_transaction(event_ids=[event_id], frees_seats=True)
    return db.session.execute(INSERT_BULK_SQL, {"event_id": event_id, "quantity": quantity}).rowcount


def _refuse_if_seated(event_id):
    """Refuse tickets made from a count for an event whose seats come from a layout.

    :raises Conflict: the event has a layout.
    """
    if layouts.settings_of(event_id) is not None:
        raise Conflict(f"Event {event_id} has a seat layout: its seats come from the layout, not from a count.")


def _tickets_by_ids(ids):
    """Return the tickets with these ids, in the order of `ids` (the first answer's order).

    :raises Conflict: some of them have been deleted since.
    """
    by_id = {str(ticket.id): ticket for ticket in db.session.scalars(select(Ticket).where(Ticket.id.in_(ids)))}
    if len(by_id) != len(ids):
        raise Conflict("Tickets created with this Idempotency-Key have been deleted since; use a new key.")
    return [by_id[ticket_id] for ticket_id in ids]


def create_tickets(*, event_id, quantity, idempotency_key=None):
    """Create `quantity` Available tickets for `event_id` and return them.

    With an `idempotency_key`, a retry of the same request returns the tickets the first
    one created (as they are now) and creates nothing more.

    :raises TooManyToCreate: `quantity` is above `CREATE_MAX_TICKETS` (use bulk creation).
    :raises IdempotencyKeyReused: the key was used for another request.
    :raises Conflict: the key's tickets have been deleted since the first request, or the
        event's seats come from a layout.
    """
    _check_quantity(quantity, "CREATE_MAX_TICKETS", TooManyToCreate, "; create more in bulk")
    _refuse_if_seated(event_id)
    request = {"eventId": event_id, "quantity": quantity}
    with transaction():
        if idempotency_key:
            stored = idempotency.claim(key=idempotency_key, scope="create", request=request)
            if stored is not None:
                return _tickets_by_ids(stored["ticketIds"])
        cache.invalidate_after_transaction(event_ids=[event_id], frees_seats=True)
        insert = select(Ticket).from_statement(INSERT_SQL)
        tickets = list(db.session.scalars(insert, {"event_id": event_id, "quantity": quantity}))
        if idempotency_key:
            ids = [str(ticket.id) for ticket in tickets]
            idempotency.remember(key=idempotency_key, scope="create", result={"ticketIds": ids})
    metrics.TICKETS_CREATED.labels("api").inc(len(tickets))
    return tickets


def create_tickets_in_bulk(*, event_id, quantity, idempotency_key=None):
    """Create `quantity` Available tickets for `event_id`; return how many were created.

    :raises InvalidRequest: `quantity` is above `BULK_MAX_TICKETS`.
    :raises IdempotencyKeyReused: the key was used for another request.
    :raises Conflict: the event's seats come from a layout.
    """
    _check_quantity(quantity, "BULK_MAX_TICKETS")
    _refuse_if_seated(event_id)
    request = {"eventId": event_id, "quantity": quantity}
    with transaction():
        redis_locks(event_keys(event_id), ttl_seconds=_statement_seconds())
        if idempotency_key:
            stored = idempotency.claim(key=idempotency_key, scope="bulk", request=request)
            if stored is not None:
                return stored["ticketsCreated"]
        created = _insert_many(event_id, quantity)
        if idempotency_key:
            idempotency.remember(key=idempotency_key, scope="bulk", result={"ticketsCreated": created})
    metrics.TICKETS_CREATED.labels("bulk").inc(created)
    return created


def create_event_tickets(*, event_id, number_of_tickets):
    """Create a newly published event's tickets, once; return how many were created now.

    Under the event's lock, and recorded like an idempotency key of the event: a
    redelivery, a duplicate message or a second consumer creates nothing more.

    :raises InvalidRequest: more than `BULK_MAX_TICKETS` tickets.
    :raises IdempotencyKeyReused: the event was published before with another number of tickets.
    :raises Conflict: the event's seats come from a layout.
    """
    _check_quantity(number_of_tickets, "BULK_MAX_TICKETS")
    _refuse_if_seated(event_id)
    with transaction():
        redis_locks(event_keys(event_id), ttl_seconds=_statement_seconds())
        request = {"eventId": event_id, "numberOfTickets": number_of_tickets}
        if idempotency.claim(key=str(event_id), scope="event-published", request=request) is not None:
            return 0
        created = _insert_many(event_id, number_of_tickets)
        idempotency.remember(key=str(event_id), scope="event-published", result={"ticketsCreated": created})
    metrics.TICKETS_CREATED.labels("event-published").inc(created)
    return created
