"""From what happened to what goes on the wire: each domain event in each contract set.

A domain event recorded while a message was handled is answered in that message's set;
one that no message asked for (a REST call, the sweeper) goes out in every set named by
`MESSAGE_CONTRACTS`. An event may have no message in a set (the `ticketer` set has no
answer to a release) or more than one (a failed hold in the `ticketer` set is both the
original `TicketReservationFailedEvent` and the `BookingFailedEvent` the saga reads).
"""

from decimal import Decimal

from app.messaging.contracts import readme, ticketer
from app.tickets.events import Happened


def _count(facts):
    return len(facts["ticket_ids"])


def _same(contract):
    """Render `contract` from the event's facts as they are."""
    return lambda facts, _context, _recorded_at, _config: contract.render(**facts)


def _price(facts, config):
    """Return what the held tickets cost together, and in which currency.

    A hold recorded before holds were priced has neither: its tickets had no price of
    their own, so it cost `DEFAULT_TICKET_PRICE` a ticket, in `DEFAULT_CURRENCY`.
    """
    total = facts.get("total_price")
    total = Decimal(config["DEFAULT_TICKET_PRICE"]) * _count(facts) if total is None else Decimal(total)
    return total, facts.get("currency") or config["DEFAULT_CURRENCY"]


def _held_in_readme(facts, _context, _recorded_at, config):
    total, currency = _price(facts, config)
    return readme.TicketHeldEvent.render(**facts | {"total_price": total, "currency": currency})


def _held_in_ticketer(facts, _context, recorded_at, config):
    total, _currency = _price(facts, config)
    return ticketer.TicketsReservedEvent.render(
        booking_id=facts["booking_id"], event_id=facts["event_id"], ticket_ids=facts["ticket_ids"],
        number_of_tickets=_count(facts), total_price=total, booking_date=recorded_at,
    )


def _refused_in_ticketer(facts, _context, _recorded_at, _config):
    return ticketer.TicketReservationFailedEvent.render(booking_id=facts["booking_id"], reason=facts["reason"])


def _booking_failed(facts, _context, _recorded_at, _config):
    return ticketer.BookingFailedEvent.render(booking_id=facts["booking_id"], reason=facts["reason"],
                                              event_id=facts["event_id"])


def _confirmed_in_ticketer(facts, context, recorded_at, _config):
    message = context.get("message") or {}
    return ticketer.BookingConfirmedEvent.render(
        booking_id=facts["booking_id"], customer_id=message.get("customerId"), event_id=facts["event_id"],
        number_of_tickets=_count(facts), created_at=recorded_at, booking_confirmed_at=recorded_at,
    )


ANSWERS = {
    readme.SET: {
        Happened.TICKETS_HELD: ((readme.TicketHeldEvent, _held_in_readme),),
        Happened.HOLD_REFUSED: ((readme.TicketHoldFailedEvent, _same(readme.TicketHoldFailedEvent)),),
        Happened.TICKETS_RESERVED: ((readme.TicketReservedEvent, _same(readme.TicketReservedEvent)),),
        Happened.RESERVATION_REFUSED: (
            (readme.TicketReservationFailedEvent, _same(readme.TicketReservationFailedEvent)),),
        Happened.TICKETS_RELEASED: ((readme.TicketsReleasedEvent, _same(readme.TicketsReleasedEvent)),),
        Happened.HOLD_EXPIRED: ((readme.TicketHoldExpiredEvent, _same(readme.TicketHoldExpiredEvent)),),
    },
    ticketer.SET: {
        Happened.TICKETS_HELD: ((ticketer.TicketsReservedEvent, _held_in_ticketer),),
        Happened.HOLD_REFUSED: (
            (ticketer.TicketReservationFailedEvent, _refused_in_ticketer),
            (ticketer.BookingFailedEvent, _booking_failed),
        ),
        Happened.TICKETS_RESERVED: ((ticketer.BookingConfirmedEvent, _confirmed_in_ticketer),),
        Happened.RESERVATION_REFUSED: ((ticketer.BookingFailedEvent, _booking_failed),),
    },
}


LEGACY = {contract.type_name(): contract for contract in readme.PUBLISHED}


def contract_sets(context, config):
    """Return the sets an event goes out in: the asking message's, else `MESSAGE_CONTRACTS`."""
    asked_in = (context.get("message") or {}).get("contractSet")
    return (asked_in,) if asked_in in ANSWERS else config["MESSAGE_CONTRACTS"]


def messages(kind, facts, context, recorded_at, config):
    """Return `(contract, body)` of every message the domain event `kind` goes out as.

    A row written before domain events were recorded holds a `readme` message as it goes
    out (its type name and camelCase body): it is published as it is.

    :raises ValueError: `kind` is not a domain event.
    """
    if kind in LEGACY:
        return [(LEGACY[kind], facts)]
    if kind not in set(Happened):
        raise ValueError(f"Unknown outbox kind {kind!r}.")
    return [
        (contract, render(facts, context, recorded_at, config))
        for contract_set in contract_sets(context, config)
        for contract, render in ANSWERS[contract_set].get(kind, ())
    ]
