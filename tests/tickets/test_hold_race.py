"""The race: 64 buyers through three doors at once fight over 100 tickets.

Threads calling the service, separate processes calling the service, and HTTP clients of
two gunicorn workers all start together on one barrier; then the invariants: no ticket
held twice, every success got what it asked, every failure changed nothing, counts add up.
"""

import multiprocessing
import uuid
from collections import Counter

import pytest
from sqlalchemy import text

from app.extensions import db
from tests.conftest import running_gunicorn
from tests.tickets import buyers

TICKETS = 100
THREAD_BUYERS = 20
PROCESSES = 2
BUYERS_PER_PROCESS = 10
HTTP_BUYERS = 24


def _race(app, database_url, strategy, event_id, ticket_ids):
    everyone = THREAD_BUYERS + PROCESSES * BUYERS_PER_PROCESS + HTTP_BUYERS
    plans = [(i, str(uuid.uuid4()), buyers.plan(i, ticket_ids)) for i in range(everyone)]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(everyone)
    results = context.Queue()
    in_thread = plans[:THREAD_BUYERS]
    in_processes = plans[THREAD_BUYERS : THREAD_BUYERS + PROCESSES * BUYERS_PER_PROCESS]
    over_http = plans[THREAD_BUYERS + PROCESSES * BUYERS_PER_PROCESS :]
    with running_gunicorn(database_url, workers=2, env={"LOCK_STRATEGY": strategy}) as (base_url, _):
        processes = [
            context.Process(
                target=buyers.process_main,
                args=(database_url, strategy, event_id, in_processes[n::PROCESSES], barrier, results),
            )
            for n in range(PROCESSES)
        ]
        for process in processes:
            process.start()
        threads = buyers.run_buyers(
            lambda booking, request: buyers.hold_through_service(app, event_id, booking, request),
            in_thread,
            barrier,
            results.put,
        )
        threads += buyers.run_buyers(
            lambda booking, request: buyers.hold_through_http(base_url, event_id, booking, request),
            over_http,
            barrier,
            results.put,
        )
        outcomes = [results.get(timeout=180) for _ in range(everyone)]
        for thread in threads:
            thread.join()
        for process in processes:
            process.join(timeout=60)
            assert process.exitcode == 0
    return outcomes


@pytest.mark.parametrize("strategy", ["ticket", "event", "none"])
def test_no_ticket_is_ever_held_by_two_bookings(make_app, database_url, event_id, strategy):
    app = make_app(LOCK_STRATEGY=strategy)
    client = app.test_client()
    created = client.post("/api/Ticket/", json={"eventId": event_id, "quantity": TICKETS}).get_json()
    ticket_ids = [ticket["ticketId"] for ticket in created]

    outcomes = _race(app, database_url, strategy, event_id, ticket_ids)

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
