"""RabbitMQ going away: changes still commit, their events wait in the outbox, and all resume by themselves."""

import subprocess
import time
import uuid
from collections import Counter

import pytest

from tests.messaging.database import eventually
from tests.messaging.messages import new_id, raw

pytestmark = pytest.mark.faults


def rabbitmqctl(command):
    subprocess.run(["rabbitmqctl", command], check=True, capture_output=True, timeout=120)


@pytest.fixture
def durable_listener(broker):
    """A test queue that outlives the broker's restart, deleted at the end."""
    listener = broker.listen("TicketHeldEvent", durable_name=f"outage-test-{uuid.uuid4()}")
    yield listener
    if broker.connection.is_open:
        broker.channel.queue_delete(listener.queue)


def unpublished(database, bookings):
    rows = database.rows(
        "SELECT body->>'booking_id' AS booking, published_at FROM outbox_messages WHERE message_type = 'TicketsHeld'"
    )
    return {row.booking for row in rows if row.booking in bookings and row.published_at is None}


def test_holds_commit_while_the_broker_is_down_and_their_events_follow_once_it_is_back(
    services, client, broker, durable_listener, database, make_tickets, event_id
):
    make_tickets(event_id, 6)
    processes = [process for process in services.processes if process.alive()]
    bookings = {str(uuid.uuid4()) for _ in range(3)}
    rabbitmqctl("stop_app")
    try:
        for booking in bookings:
            response = client.post("/api/Ticket/hold", json={
                "eventId": event_id, "bookingId": booking, "numberOfTickets": 1,
            })
            assert response.status_code == 200, response.get_json()
        time.sleep(1)
        assert unpublished(database, bookings) == bookings
    finally:
        rabbitmqctl("start_app")
    broker.connect()

    received = durable_listener.receive(count=3, timeout=45)
    time.sleep(0.5)
    durable_listener.drain()
    assert Counter(message.booking_id for message in durable_listener.messages) == dict.fromkeys(bookings, 1)
    assert {message.booking_id for message in received} == bookings
    assert eventually(lambda: not unpublished(database, bookings))
    held = {owner for status, owner in database.tickets(event_id).values() if status == "Held"}
    assert held == bookings

    booking = str(uuid.uuid4())
    broker.send(raw("HoldTicketsRequest", {"bookingId": booking, "eventId": event_id, "numberOfTickets": 1},
                    message_id=new_id()))
    assert durable_listener.receive(booking, timeout=45), "the consumer did not come back after the outage"
    assert all(process.alive() for process in processes), "a process died instead of reconnecting"
