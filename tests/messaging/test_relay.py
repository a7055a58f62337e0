"""The outbox relay: every committed event reaches its exchange once, promptly, from every door."""

import json
import time
import uuid

import pytest

from app.extensions import db
from app.tickets.expiry import release_expired_holds
from tests.messaging.broker import assert_wire_format
from tests.messaging.database import eventually


def reports_publishing(line):
    return json.loads(line).get("message", "").startswith("published ")


def test_two_relays_at_once_publish_every_event_exactly_once(spawn, broker, database):
    relays = [spawn("relay", alone=True, OUTBOX_BATCH_SIZE=10), spawn("relay", OUTBOX_BATCH_SIZE=10)]
    assert eventually(lambda: database.listening_relays() == 2)
    listener = broker.listen("TicketsReleasedEvent")
    bookings = database.write_outbox(400)

    received = listener.receive(count=400, timeout=30)
    time.sleep(0.3)
    listener.drain()
    assert len(listener.messages) == 400
    assert {message.booking_id for message in listener.messages} == bookings
    rows = database.rows("SELECT body->>'booking_id' AS booking, published_at FROM outbox_messages")
    assert len({message.headers["MessageId"] for message in received}) == 400
    assert {row.booking for row in rows} >= bookings
    assert all(row.published_at is not None for row in rows)
    for relay in relays:
        assert any(reports_publishing(line) for line in relay.log(last=10**6).splitlines()), "a relay sat idle"


def test_a_relay_wakes_on_notify_long_before_its_poll(spawn, client, broker, make_tickets, event_id):
    spawn("relay", alone=True, OUTBOX_POLL_SECONDS=30)
    listener = broker.listen("TicketHeldEvent")
    make_tickets(event_id, 2)
    booking = uuid.uuid4()
    assert client.post("/api/Ticket/hold", json={
        "eventId": event_id, "bookingId": str(booking), "numberOfTickets": 1,
    }).status_code == 200
    assert listener.receive(booking), "the first event was not relayed"
    time.sleep(0.5)  # the relay is asleep now, for up to 30 seconds unless notified

    booking = uuid.uuid4()
    started = time.monotonic()
    assert client.post("/api/Ticket/hold", json={
        "eventId": event_id, "bookingId": str(booking), "numberOfTickets": 1,
    }).status_code == 200
    assert listener.receive(booking, timeout=10)
    assert time.monotonic() - started < 5


CONVERSATION = "c-42"


def post(client, path, body, **extra):
    response = client.post(f"/api/Ticket/{path}", json=body | extra, headers={"X-Correlation-ID": CONVERSATION})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def rest_hold(client, app, batch):
    post(client, "hold", batch)
    return CONVERSATION


def rest_reserve(client, app, batch):
    post(client, "hold", batch)
    assert post(client, "reserve", batch) is True
    return CONVERSATION


def rest_release(client, app, batch):
    post(client, "hold", batch)
    assert post(client, "release", batch) is True
    return CONVERSATION


def sweeper_expiry(client, app, batch):
    """Let a one-second hold run out and sweep it; the sweeper's event starts a conversation of its own."""
    post(client, "hold", batch, holdSeconds=1)
    time.sleep(1.1)
    with app.app_context():
        assert [str(hold.booking_id) for hold in release_expired_holds(batch_size=100)] == [batch["bookingId"]]
        db.session.remove()


DOORS = {
    "TicketHeldEvent": rest_hold,
    "TicketReservedEvent": rest_reserve,
    "TicketsReleasedEvent": rest_release,
    "TicketHoldExpiredEvent": sweeper_expiry,
}


@pytest.mark.parametrize("type_name", DOORS)
def test_every_change_that_announces_itself_reaches_its_exchange(
    type_name, app, services, client, broker, database, namespace, make_tickets, event_id
):
    ids = sorted(make_tickets(event_id, 2))
    listener = broker.listen(type_name)
    booking = uuid.uuid4()
    conversation = DOORS[type_name](client, app, {"eventId": event_id, "bookingId": str(booking), "ticketIds": ids})
    (message,) = listener.receive(booking)
    assert_wire_format(message, type_name, namespace=namespace, booking_id=booking,
                       conversation_id=conversation or message.headers["MessageId"])
    assert message.body["eventId"] == event_id and sorted(message.body["ticketIds"]) == ids
    assert eventually(lambda: database.scalar(
        "SELECT bool_and(published_at IS NOT NULL) FROM outbox_messages WHERE body->>'booking_id' = :b",
        b=str(booking),
    ))
