"""A consumer's batch is one transaction: the good messages commit together, a failing one rolls back alone."""

import time
import uuid

from sqlalchemy import text

from app.extensions import db
from tests.messaging.database import eventually
from tests.messaging.messages import new_id, raw

HOLD = "HoldTicketsRequest"


def hold(event_id, booking, **fields):
    return raw(HOLD, {"bookingId": str(booking), "eventId": event_id} | fields, message_id=new_id())


def test_a_poison_message_in_the_middle_of_a_batch_takes_its_own_path_and_the_others_commit_together(
    relay, spawn, broker, database, make_tickets, event_id
):
    tickets = make_tickets(event_id, 4)
    listener = broker.listen("TicketHeldEvent", "TicketHoldFailedEvent")
    bookings = [uuid.uuid4() for _ in range(4)]
    poison_booking = uuid.uuid4()
    poison = hold(event_id, poison_booking, ticketIds=[tickets[0], str(uuid.uuid4())], numberOfTickets=5)
    messages = [hold(event_id, b, numberOfTickets=1) for b in bookings[:2]] + [poison] + [
        hold(event_id, b, numberOfTickets=1) for b in bookings[2:]]
    spawn("hold-tickets", alone=True, CONSUMER_BATCH=10, CONSUMER_LINGER_MS=1_000)
    broker.send_all(messages)

    held = {m.booking_id for m in listener.receive(types=("TicketHeldEvent",), count=4, timeout=15)}
    assert held == {str(b) for b in bookings}
    (refused,) = listener.receive(poison_booking, types=("TicketHoldFailedEvent",))
    assert "numberOfTickets is 5 but 2 ticketIds" in refused.body["reason"]
    assert broker.take("hold-tickets_error", poison.message_id) is not None
    assert database.scalar(
        "SELECT count(DISTINCT c.changed_at) FROM ticket_status_changes c JOIN tickets t ON t.id = c.ticket_id"
        " WHERE t.event_id = :e AND c.to_status = 'Held'", e=event_id) == 1, "the four holds were not one batch"
    owners = [owner for status, owner in database.tickets(event_id).values() if status == "Held"]
    assert sorted(owners) == sorted(str(b) for b in bookings)


def test_a_batch_that_holds_a_busy_ticket_returns_that_message_alone(
    app, relay, spawn, broker, database, make_tickets, event_id
):
    tickets = make_tickets(event_id, 3)
    listener = broker.listen("TicketHeldEvent")
    busy, free = uuid.uuid4(), uuid.uuid4()
    spawn("hold-tickets", alone=True, CONSUMER_BATCH=10, CONSUMER_LINGER_MS=500, DB_LOCK_TIMEOUT_MS=300)
    with app.app_context(), db.engine.connect() as blocker:
        blocker.execute(text("SELECT id FROM tickets WHERE id = :t FOR UPDATE"), {"t": tickets[0]})
        broker.send_all([hold(event_id, busy, ticketIds=[tickets[0]]), hold(event_id, free, ticketIds=[tickets[1]])])
        assert listener.receive(free, timeout=10), "the free ticket's hold waited for the busy one"
        assert database.tickets(event_id)[tickets[0]] == ("Available", None)
        blocker.rollback()
    assert listener.receive(busy, timeout=15), "the busy ticket's hold was not retried"
    assert eventually(lambda: database.tickets(event_id)[tickets[0]] == ("Held", str(busy)))


def test_two_messages_of_one_batch_on_the_same_ticket_do_not_wait_for_each_others_lock(
    relay, spawn, broker, make_tickets, event_id
):
    (ticket,) = make_tickets(event_id, 1)
    listener = broker.listen("TicketHeldEvent", "TicketHoldFailedEvent")
    first, second = uuid.uuid4(), uuid.uuid4()
    spawn("hold-tickets", alone=True, CONSUMER_BATCH=10, CONSUMER_LINGER_MS=500, LOCK_WAIT_SECONDS=5)
    started = time.monotonic()
    broker.send_all([hold(event_id, first, ticketIds=[ticket]), hold(event_id, second, ticketIds=[ticket])])
    (held,) = listener.receive(first, types=("TicketHeldEvent",), timeout=10)
    (refused,) = listener.receive(second, types=("TicketHoldFailedEvent",), timeout=10)
    assert time.monotonic() - started < 3, "the second message waited on the lock its own batch holds"
    assert held.body["ticketIds"] == [ticket] and "Held" in refused.body["reason"]
