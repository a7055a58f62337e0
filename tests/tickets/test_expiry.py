"""The hold sweeper: expired holds back to Available, audited, once, by any number of sweepers."""

import threading
import time
import uuid

from sqlalchemy import text

from app.extensions import db
from app.tickets.expiry import release_expired_holds


def expire_now(app, event_id):
    with app.app_context():
        db.session.execute(
            text("UPDATE tickets SET held_until = now() - interval '1 second' WHERE event_id = :e AND status = 'Held'"),
            {"e": event_id},
        )
        db.session.commit()


def audit_rows(app, source):
    with app.app_context():
        return db.session.execute(
            text("SELECT ticket_id, from_status, to_status FROM ticket_status_changes WHERE source = :s"),
            {"s": source},
        ).all()


def test_the_sweeper_returns_an_expired_hold_to_available_with_an_audit_row(app, client, event_id, make_tickets):
    ids = make_tickets(event_id, 3)
    booking = str(uuid.uuid4())
    body = {"eventId": event_id, "bookingId": booking, "ticketIds": ids[:2], "holdSeconds": 1}
    assert client.post("/api/Ticket/hold", json=body).status_code == 200
    with app.app_context():
        assert release_expired_holds(batch_size=10) == []
    time.sleep(1.1)
    with app.app_context():
        expired = release_expired_holds(batch_size=10)
    assert [(str(h.booking_id), h.event_id, sorted(map(str, h.ticket_ids))) for h in expired] == [
        (booking, event_id, sorted(ids[:2]))
    ]
    for ticket_id in ids[:2]:
        ticket = client.get(f"/api/Ticket/{ticket_id}").get_json()
        assert (ticket["status"], ticket["bookingId"], ticket["heldUntil"]) == ("Available", None, None)
        last = client.get(f"/api/Ticket/{ticket_id}/history").get_json()[-1]
        assert (last["fromStatus"], last["toStatus"], last["source"]) == ("Held", "Available", "sweeper")


def test_the_sweeper_works_in_batches_and_leaves_live_holds(app, client, event_id, make_tickets):
    make_tickets(event_id, 25)
    for _ in range(5):
        body = {"eventId": event_id, "bookingId": str(uuid.uuid4()), "numberOfTickets": 4}
        assert client.post("/api/Ticket/hold", json=body).status_code == 200
    expire_now(app, event_id)
    live = {"eventId": event_id, "bookingId": str(uuid.uuid4()), "numberOfTickets": 5}
    assert client.post("/api/Ticket/hold", json=live).status_code == 200
    with app.app_context():
        expired = release_expired_holds(batch_size=3)
    assert sum(len(h.ticket_ids) for h in expired) == 20
    summary = client.get(f"/api/Ticket/event/{event_id}/summary").get_json()
    assert (summary["available"], summary["held"]) == (20, 5)


def test_two_sweepers_at_once_release_each_ticket_exactly_once(app, client, event_id, make_tickets):
    make_tickets(event_id, 400)
    for _ in range(100):
        body = {"eventId": event_id, "bookingId": str(uuid.uuid4()), "numberOfTickets": 4}
        assert client.post("/api/Ticket/hold", json=body).status_code == 200
    expire_now(app, event_id)
    barrier = threading.Barrier(4)
    released = []

    def sweep():
        barrier.wait()
        with app.app_context():
            released.extend(release_expired_holds(batch_size=7))

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ticket_ids = [ticket_id for hold in released for ticket_id in hold.ticket_ids]
    assert len(ticket_ids) == len(set(ticket_ids)) == 400
    rows = audit_rows(app, "sweeper")
    assert len(rows) == 400 and {(r.from_status, r.to_status) for r in rows} == {("Held", "Available")}


def test_the_sweep_command_runs_once(app, client, event_id, make_tickets):
    make_tickets(event_id, 2)
    body = {"eventId": event_id, "bookingId": str(uuid.uuid4()), "numberOfTickets": 2}
    assert client.post("/api/Ticket/hold", json=body).status_code == 200
    expire_now(app, event_id)
    result = app.test_cli_runner().invoke(args=["tickets", "sweep-holds", "--once"])
    assert result.exit_code == 0, result.output
    assert "released 2 expired tickets" in result.output
    assert client.get(f"/api/Ticket/event/{event_id}/summary").get_json()["held"] == 0
