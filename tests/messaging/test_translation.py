"""What a hold costs, in each set's answer: the seats' prices as recorded, or the defaults for older rows."""

from datetime import UTC, datetime

import pytest

from app.messaging.translation import messages
from app.tickets.events import Happened

BOOKING = "3f2b8c1e-0d4a-4c1e-9a57-2f4f1c6b9e10"
TICKETS = ["0d8f6a34-1b2c-4d5e-8f90-a1b2c3d4e5f6", "1e9a7b45-2c3d-4e6f-9a01-b2c3d4e5f6a7"]
RECORDED = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
CONFIG = {"MESSAGE_CONTRACTS": ("readme", "ticketer"), "DEFAULT_TICKET_PRICE": "25.00", "DEFAULT_CURRENCY": "USD"}
HELD = {"booking_id": BOOKING, "event_id": 42, "ticket_ids": TICKETS, "held_until": "2026-05-01T12:10:00+00:00"}
PRICED = HELD | {"total_price": "240.00", "currency": "EUR"}


def answers(facts):
    """Return `{type name: body}` of a TicketsHeld row nobody asked for, in both sets."""
    return {contract.type_name(): body for contract, body in messages(Happened.TICKETS_HELD, facts, {}, RECORDED,
                                                                      CONFIG)}


@pytest.mark.parametrize(("facts", "total", "currency"), [
    (PRICED, "240.00", "EUR"),
    (HELD, "50.00", "USD"),
], ids=["priced", "recorded-before-prices"])
def test_a_hold_is_answered_with_what_its_seats_cost(facts, total, currency):
    held = answers(facts)
    assert held["TicketHeldEvent"] == {"bookingId": BOOKING, "eventId": 42, "ticketIds": TICKETS,
                                       "heldUntil": "2026-05-01T12:10:00Z", "totalPrice": total, "currency": currency}
    assert held["TicketsReservedEvent"]["totalPrice"] == total
    assert "currency" not in held["TicketsReservedEvent"], "the original record has no currency"


def test_a_free_hold_costs_nothing_rather_than_the_default():
    held = answers(PRICED | {"total_price": "0.00"})
    assert held["TicketHeldEvent"]["totalPrice"] == held["TicketsReservedEvent"]["totalPrice"] == "0.00"
