"""The race: 64 buyers through three doors at once fight over 100 tickets.

Threads calling the service, separate processes calling the service, and HTTP clients of
two gunicorn workers all start together on one barrier; then the invariants: no ticket
held twice, every success got what it asked, every failure changed nothing, counts add up.
"""

from collections import Counter

import pytest
from sqlalchemy import text

from app.extensions import db
from tests.tickets import buyers

TICKETS = 100


@pytest.mark.parametrize("strategy", ["ticket", "event", "none"])
def test_no_ticket_is_ever_held_by_two_bookings(make_app, database_url, event_id, strategy):
    app = make_app(LOCK_STRATEGY=strategy)
    client = app.test_client()
    created = client.post("/api/Ticket/", json={"eventId": event_id, "quantity": TICKETS}).get_json()
    ticket_ids = [ticket["ticketId"] for ticket in created]

    plans = [buyers.plan(i, ticket_ids) for i in range(buyers.EVERYONE)]
    outcomes = buyers.race(app, database_url, event_id, plans, strategy)

    assert [error for *_, error in outcomes if error] == []
    won = {booking: held for _, booking, _, held, _ in outcomes if held is not None}
    for _, _, request, held, _ in outcomes:
        if held is not None:
            asked = request.get("numberOfTickets") or len(request["ticketIds"])
            assert len(held) == asked
            if "ticketIds" in request:
                assert held == sorted(request["ticketIds"])
    every_held = [ticket for held in won.values() for ticket in held]
    assert len(every_held) == len(set(every_held)), "a ticket was held by two bookings"
    assert 0 < len(won) < len(outcomes)
    print(f"{strategy}: {len(won)} of {len(outcomes)} buyers won {len(every_held)} tickets")

    with app.app_context():
        rows = db.session.execute(
            text("SELECT id, status, booking_id FROM tickets WHERE event_id = :e"), {"e": event_id}
        ).all()
        audit = db.session.execute(
            text(
                "SELECT c.from_status, c.to_status FROM ticket_status_changes c"
                " JOIN tickets t ON t.id = c.ticket_id WHERE t.event_id = :e"
            ),
            {"e": event_id},
        ).all()
    in_database = {str(r.id): str(r.booking_id) for r in rows if r.status == "Held"}
    expected = {ticket: booking for booking, held in won.items() for ticket in held}
    assert in_database == expected, "the table disagrees with the answers"
    assert {r.status for r in rows} <= {"Available", "Held"}
    assert Counter((a.from_status, a.to_status) for a in audit) == {("Available", "Held"): len(every_held)}

    summary = client.get(f"/api/Ticket/event/{event_id}/summary").get_json()
    assert summary["total"] == TICKETS
    assert summary["held"] == len(every_held)
    assert summary["available"] == TICKETS - len(every_held)
    assert summary["reserved"] == summary["sold"] == summary["cancelled"] == 0
