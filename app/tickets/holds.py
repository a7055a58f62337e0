"""Hold tickets for a booking, by quantity or by id, until a deadline.

The REST API and the `hold-tickets` consumer both call `hold_tickets`. A booking holds
at most one set of tickets per event: asking again returns the set it already holds.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

from flask import current_app
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import UUID as PG_UUID

from app import cache, metrics, outbox
from app.errors import Busy, CustomerLimitReached, HoldUnavailable, InvalidRequest
from app.extensions import db
from app.models import TicketStatus
from app.tickets import blocks, layouts
from app.tickets.events import Happened
from app.tickets.locking import keys_for, redis_locks
from app.tickets.moves import hold_available, hold_given, lock_tickets, move_tickets
from app.transaction import transaction

BOOKING = PG_UUID(as_uuid=True)

# The booking's advisory lock (and, for a hold with a customer, the customer's in the
# event, always taken second) is a one-time filter: taken before the scan, even when the
# booking holds nothing, so two requests of one booking (or customer) never both make a
# hold. This statement's snapshot predates the wait for the lock; the statements after
# it see what an earlier holder of the lock committed.
CURRENT_HOLD_TEMPLATE = """
    SELECT id, held_until, price
      FROM tickets
     WHERE (SELECT {locks}) = ''
       AND booking_id = :booking_id AND event_id = :event_id
       AND status = 'Held' AND held_until > now()
     ORDER BY id
"""
BOOKING_LOCK = "pg_advisory_xact_lock(hashtextextended(:booking_key, 0))::text"
CUSTOMER_LOCK = "pg_advisory_xact_lock(hashtextextended(:customer_key, 0))::text"
CURRENT_HOLD_SQL = text(CURRENT_HOLD_TEMPLATE.format(locks=BOOKING_LOCK)).bindparams(
    bindparam("booking_id", type_=BOOKING))
CURRENT_CUSTOMER_HOLD_SQL = text(CURRENT_HOLD_TEMPLATE.format(locks=f"{BOOKING_LOCK} || {CUSTOMER_LOCK}")).bindparams(
    bindparam("booking_id", type_=BOOKING))
CUSTOMER_SQL = text(
    """
    SELECT (SELECT count(*) FROM tickets
             WHERE event_id = :event_id AND customer_id = :customer_id
               AND (status IN ('Reserved', 'Sold') OR (status = 'Held' AND held_until > now()))) AS has,
           COALESCE((SELECT max_tickets_per_customer FROM event_settings WHERE event_id = :event_id),
                    CAST(:default_limit AS integer)) AS "limit"
    """
)

PICK_TEMPLATE = """
    SELECT id FROM tickets
     WHERE event_id = :event_id AND {free} {category}
     ORDER BY {order}
     LIMIT :count
       FOR UPDATE SKIP LOCKED
"""
AVAILABLE = {"free": "status = 'Available'", "order": "id"}
EXPIRED = {"free": "status = 'Held' AND held_until <= now()", "order": "held_until"}
COUNT_FREE_TEMPLATE = """
    SELECT count(*) FROM tickets
     WHERE event_id = :event_id {category}
       AND (status = 'Available' OR (status = 'Held' AND held_until <= now()))
"""
OF_CATEGORY = "AND category = :category"
PICK_AVAILABLE_SQL = {by: text(PICK_TEMPLATE.format(**AVAILABLE, category=by)) for by in ("", OF_CATEGORY)}
PICK_EXPIRED_SQL = {by: text(PICK_TEMPLATE.format(**EXPIRED, category=by)) for by in ("", OF_CATEGORY)}
COUNT_FREE_SQL = {by: text(COUNT_FREE_TEMPLATE.format(category=by)) for by in ("", OF_CATEGORY)}


@dataclass(frozen=True)
class Hold:
    """Tickets held for a booking until `held_until`, and what they cost together."""

    booking_id: UUID
    event_id: int
    ticket_ids: list[UUID]
    held_until: datetime
    total_price: Decimal
    currency: str


def _hold_seconds(hold_seconds):
    config = current_app.config
    if hold_seconds is None:
        return config["HOLD_DEFAULT_SECONDS"]
    if not 1 <= hold_seconds <= config["HOLD_MAX_SECONDS"]:
        message = f"holdSeconds must be from 1 to {config['HOLD_MAX_SECONDS']}."
        raise InvalidRequest(message, fields={"holdSeconds": [message]})
    return hold_seconds


def _check_request(event_id, number_of_tickets, ticket_ids, category, adjacent):
    """Refuse a request that asks for a quantity and ids, or for seating an event does not have.

    :raises InvalidRequest: neither or both of a quantity and ids; a category or adjacent
        seats with ids, or for an event without a layout; a category the event does not have.
    """
    if (number_of_tickets is None) == (not ticket_ids):
        message = "Give exactly one of numberOfTickets or ticketIds."
        raise InvalidRequest(message, fields={"_schema": [message]})
    if not (category or adjacent):
        return
    if ticket_ids:
        message = "category and adjacent choose seats for numberOfTickets; given ticketIds are held as they are."
        raise InvalidRequest(message, fields={"_schema": [message]})
    settings = layouts.settings_of(event_id)
    if settings is None:
        message = f"Event {event_id} has no seat layout: category and adjacent need one."
        raise InvalidRequest(message, fields={"_schema": [message]})
    if category is not None and category not in settings.categories:
        message = f"Event {event_id} has no category {category}; it has {', '.join(sorted(settings.categories))}."
        raise InvalidRequest(message, fields={"category": [message]})


def _current_hold(event_id, booking_id, customer_id=None):
    """Serialize this booking's (and customer's) holds, then return the tickets it holds now in the event."""
    params = {"booking_key": str(booking_id), "booking_id": booking_id, "event_id": event_id}
    statement = CURRENT_HOLD_SQL
    if customer_id is not None:
        statement, params["customer_key"] = CURRENT_CUSTOMER_HOLD_SQL, f"customer:{event_id}:{customer_id}"
    return db.session.execute(statement, params).all()


def _check_customer_limit(event_id, customer_id, count):
    """Refuse a hold that would leave the customer with more tickets of the event than its limit.

    Runs after `_current_hold` took the customer's lock, so it counts every hold of the
    customer that committed before.

    :raises CustomerLimitReached: the limit would be passed.
    """
    default = current_app.config["MAX_TICKETS_PER_CUSTOMER"] or None
    params = {"event_id": event_id, "customer_id": customer_id, "default_limit": default}
    found = db.session.execute(CUSTOMER_SQL, params).one()
    if found.limit is not None and found.has + count > found.limit:
        raise CustomerLimitReached(
            f"Customer {customer_id} may have at most {found.limit} tickets of event {event_id} and has"
            f" {found.has} already: {count} more would pass the limit.",
            requested=count, limit=found.limit, has=found.has,
        )


def _count_free(event_id, category=None):
    params = {"event_id": event_id, "category": category}
    return db.session.execute(COUNT_FREE_SQL[OF_CATEGORY if category else ""], params).scalar_one()


def _not_enough(event_id, count, available, category=None):
    """Return the refusal of a quantity hold that found only `available` free seats."""
    kind = f" of category {category}" if category else ""
    return HoldUnavailable(f"Not enough tickets{kind} available for event {event_id}: asked for {count}.",
                           requested=count, available=available)


def _pick_by_quantity(event_id, count, category):
    """Lock `count` free seats of the event, skipping those other buyers are locking."""
    by = OF_CATEGORY if category else ""
    params = {"event_id": event_id, "count": count, "category": category}
    picked = list(db.session.scalars(PICK_AVAILABLE_SQL[by], params))
    if len(picked) < count:
        params["count"] = count - len(picked)
        picked += db.session.scalars(PICK_EXPIRED_SQL[by], params)
    if len(picked) < count:
        raise _not_enough(event_id, count, _count_free(event_id, category), category)
    return picked


def _check_given(event_id, booking_id, ticket_ids):
    """Lock the given tickets and make sure the booking may hold every one of them."""
    tickets = lock_tickets(ticket_ids)
    missing = [str(ticket_id) for ticket_id in ticket_ids if ticket_id not in tickets]
    if missing:
        raise HoldUnavailable(
            f"Tickets not found: {', '.join(missing)}.", requested=len(ticket_ids), available=0
        )
    foreign = [str(t.id) for t in tickets.values() if t.event_id != event_id]
    if foreign:
        raise InvalidRequest(
            f"Tickets {', '.join(foreign)} do not belong to event {event_id}.",
            fields={"ticketIds": ["Every ticket must belong to eventId."]},
        )
    taken = [t for t in tickets.values() if not t.is_free_for(booking_id)]
    if taken:
        described = ", ".join(f"{t.id} is {t.status}" for t in taken)
        raise HoldUnavailable(
            f"Tickets cannot be held: {described}.",
            requested=len(ticket_ids),
            available=len(ticket_ids) - len(taken),
        )
    return sorted(tickets)


def _priced(event_id, prices):
    """Return the total and currency of tickets with these prices (None: the default price)."""
    config = current_app.config
    total = sum((Decimal(config["DEFAULT_TICKET_PRICE"]) if price is None else price for price in prices),
                Decimal("0.00"))
    settings = layouts.settings_of(event_id) if any(price is not None for price in prices) else None
    return total, settings.currency if settings else config["DEFAULT_CURRENCY"]


def _held(event_id, booking_id, held, held_until):
    """Return the Hold of these tickets: `held` maps each ticket id to its price."""
    total, currency = _priced(event_id, list(held.values()))
    return Hold(booking_id, event_id, sorted(held), held_until, total, currency)


def hold_tickets(*, event_id, booking_id, number_of_tickets=None, ticket_ids=None, hold_seconds=None,
                 category=None, adjacent=False, customer_id=None):
    """Hold `number_of_tickets` free seats of the event, or the given `ticket_ids`, for a booking.

    Free means Available, or Held with an expired deadline. A quantity hold may ask for
    seats of one `category` only, and for `adjacent` seats (side by side in one row, the
    best block free: `app.tickets.blocks`). With a `customer_id`, the hold is refused when
    it would leave the customer with more tickets of the event than its limit (the
    event's `maxTicketsPerCustomer`, else `MAX_TICKETS_PER_CUSTOMER`).

    If the booking already holds tickets of this event, those are returned and nothing
    changes. Either way the hold is recorded as `TicketsHeld`. A quantity hold that finds
    too few free seats leaves their number in Redis; later quantity holds asking for more
    are refused from it without the database (see `app.cache`).

    :raises InvalidRequest: neither or both of `number_of_tickets` and `ticket_ids`, a bad
        `hold_seconds`, tickets of another event, or seating the event does not have.
    :raises HoldUnavailable: not enough free tickets (or no block of adjacent ones), or a
        given ticket is taken.
    :raises CustomerLimitReached: the customer's limit would be passed.
    :raises Busy: the tickets are locked by another request for longer than the bounded wait.
    """
    _check_request(event_id, number_of_tickets, ticket_ids, category, adjacent)
    seconds = _hold_seconds(hold_seconds)
    if not ticket_ids:
        _refuse_if_known_sold_out(event_id, booking_id, number_of_tickets, category)
    try:
        with transaction():
            redis_locks(keys_for(event_id=event_id, ticket_ids=ticket_ids or ()))
            current = _current_hold(event_id, booking_id, customer_id)
            if current:
                result = "repeated"
                hold = _held(event_id, booking_id, {row.id: row.price for row in current}, current[0].held_until)
            else:
                if customer_id is not None:
                    _check_customer_limit(event_id, customer_id, number_of_tickets or len(ticket_ids))
                result, hold = _hold_new(event_id, booking_id, number_of_tickets, ticket_ids, seconds,
                                         category, adjacent, customer_id)
            outbox.record(Happened.TICKETS_HELD, booking_id=booking_id, event_id=event_id,
                          ticket_ids=hold.ticket_ids, held_until=hold.held_until,
                          total_price=hold.total_price, currency=hold.currency)
            cache.mark_holder_after_transaction(event_id=event_id, booking_id=booking_id,
                                                seconds=(hold.held_until - datetime.now(UTC)).total_seconds())
    except CustomerLimitReached:
        metrics.HOLDS.labels("over_limit").inc()
        raise
    except HoldUnavailable as refusal:
        metrics.HOLDS.labels("unavailable").inc()
        if not ticket_ids:
            cache.remember_free(event_id, refusal.available, category)
        raise
    metrics.HOLDS.labels(result).inc()
    return hold


def _refuse_if_known_sold_out(event_id, booking_id, count, category):
    """Refuse a quantity hold from the event's (or category's) sold-out answer in Redis, without the database.

    :raises HoldUnavailable: Redis remembers fewer free seats than `count`.
    """
    free = cache.known_free(event_id, booking_id, category)
    if free is not None and free < count:
        metrics.HOLDS.labels("unavailable").inc()
        raise _not_enough(event_id, count, free, category)


def _hold_new(event_id, booking_id, count, ticket_ids, seconds, category, adjacent, customer_id):
    """Pick and hold the tickets of a new hold; return `("held", hold)`, or `("repeated", hold)`.

    Every way of holding makes nothing when the booking holds other seats of the event:
    a request of the same booking may have committed a hold while this one waited for the
    booking's lock, which the statements after that wait see. Then that hold is returned.
    A quantity hold first tries Available seats in one statement; only when there are not
    enough does it look at expired holds too.
    """
    current = None
    if ticket_ids:
        moved = hold_given(_check_given(event_id, booking_id, ticket_ids), event_id=event_id, booking_id=booking_id,
                           hold_seconds=seconds, customer_id=customer_id)
    elif adjacent:
        current = _current_hold(event_id, booking_id)
        moved = {} if current else blocks.hold_adjacent(
            event_id=event_id, count=count, category=category, booking_id=booking_id, hold_seconds=seconds,
            customer_id=customer_id, available=lambda: _count_free(event_id, category))
    else:
        moved = hold_available(event_id=event_id, count=count, booking_id=booking_id, hold_seconds=seconds,
                               category=category, customer_id=customer_id)
    if not moved and not current:
        current = _current_hold(event_id, booking_id)
    if current:
        held = {row.id: row.price for row in current}
        return "repeated", _held(event_id, booking_id, held, current[0].held_until)
    if not moved:
        if ticket_ids:  # the booking's other hold ran out between two statements
            raise Busy("The booking's hold is changing; retry shortly.")
        moved = move_tickets(_pick_by_quantity(event_id, count, category), to_status=TicketStatus.HELD,
                             booking_id=booking_id, keep_owner=False, hold_seconds=seconds, customer_id=customer_id)
    held_until = next(iter(moved.values())).held_until
    return "held", _held(event_id, booking_id, {ticket_id: m.price for ticket_id, m in moved.items()}, held_until)
