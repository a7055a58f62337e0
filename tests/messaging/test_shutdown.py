"""SIGTERM stops a consumer or the relay cleanly and promptly, finishing the batch in hand.

With batches of one, the batch in hand is one message and the one prefetched behind it
goes back to the queue.
"""

import time
import uuid

from sqlalchemy import text

from app.extensions import db
from tests.messaging.database import eventually
from tests.messaging.messages import new_id, raw

HOLD = "HoldTicketsRequest"


def stopped_within(process, seconds):
    started = time.monotonic()
    code = process.terminate(timeout=seconds)
    return code, time.monotonic() - started


def hold_by_id(event_id, booking, ticket_id):
    return raw(HOLD, {"bookingId": str(booking), "eventId": event_id, "ticketIds": [ticket_id]}, message_id=new_id())


def lock_waiters(database):
    return database.scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )


def test_sigterm_lets_a_consumer_finish_the_message_in_hand_and_return_the_rest(
    app, relay, fleet, spawn, broker, answers, database, make_tickets, event_id
):
    first, second = make_tickets(event_id, 2)
    consumer = spawn("hold-tickets", alone=True, DB_LOCK_TIMEOUT_MS=30_000, CONSUMER_BATCH=1)
    in_hand, waiting = uuid.uuid4(), uuid.uuid4()
    with app.app_context(), db.engine.connect() as blocker:
        blocker.execute(text("SELECT id FROM tickets WHERE id = :t FOR UPDATE"), {"t": first})
        broker.send(hold_by_id(event_id, in_hand, first))
        broker.send(hold_by_id(event_id, waiting, second))
        assert eventually(lambda: lock_waiters(database) == 1), "the consumer never reached the locked ticket"
        consumer.popen.terminate()
        time.sleep(0.5)
        assert consumer.alive(), "the consumer quit with a message in hand"
        blocker.rollback()
    code, seconds = stopped_within(consumer, 10)
    assert code == 0 and seconds < 5

    assert database.tickets(event_id)[first] == ("Held", str(in_hand))
    assert database.tickets(event_id)[second] == ("Available", None)
    assert answers.receive(in_hand)[0].type_name == "TicketHeldEvent"
    assert broker.queue_counts("hold-tickets") == (1, 0), "the prefetched message did not go back to the queue"
    fleet.ensure("hold-tickets")
    assert answers.receive(waiting)[0].type_name == "TicketHeldEvent"


def test_sigterm_stops_an_idle_consumer_at_once(spawn, broker):
    consumer = spawn("event-published", alone=True)
    code, seconds = stopped_within(consumer, 10)
    assert code == 0 and seconds < 3
    assert broker.queue_counts("event-published")[1] == 0


def test_sigterm_stops_an_idle_relay_at_once_even_with_a_long_poll(spawn, database):
    relay = spawn("relay", alone=True, OUTBOX_POLL_SECONDS=30)
    time.sleep(0.3)
    code, seconds = stopped_within(relay, 10)
    assert code == 0 and seconds < 3
    assert eventually(lambda: database.listening_relays() == 0)


def test_sigterm_during_a_burst_leaves_every_event_published_once_or_waiting(spawn, broker, database):
    listener = broker.listen("TicketsReleasedEvent")
    relay = spawn("relay", alone=True, OUTBOX_BATCH_SIZE=20)
    bookings = database.write_outbox(1000)
    assert listener.receive(count=50, timeout=10)
    code, seconds = stopped_within(relay, 10)
    assert code == 0 and seconds < 3
    published = {row.booking for row in database.rows(
        "SELECT body->>'booking_id' AS booking FROM outbox_messages WHERE published_at IS NOT NULL")}
    assert 0 < len(published) < len(bookings), "the relay was not stopped in the middle"
    time.sleep(0.3)
    listener.drain()
    assert sorted(message.booking_id for message in listener.messages) == sorted(published)

    spawn("relay")
    assert len(listener.receive(count=1000, timeout=20)) == 1000
    assert sorted(message.booking_id for message in listener.messages) == sorted(bookings)
