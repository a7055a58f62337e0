"""A hold-tickets consumer killed mid-stream, in the middle of a batch, loses nothing and applies nothing twice."""

import time
import uuid
from collections import Counter

from tests.messaging.database import eventually
from tests.messaging.messages import new_id, raw

REQUESTS = 1000
TICKETS = 700


def test_sigkill_in_the_middle_of_a_stream_of_holds_leaves_one_answer_per_request(
    relay, spawn, broker, database, make_tickets, event_id
):
    make_tickets(event_id, TICKETS)
    listener = broker.listen("TicketHeldEvent", "TicketHoldFailedEvent")
    first = spawn("hold-tickets", alone=True, CONSUMER_BATCH=50, CONSUMER_LINGER_MS=20)
    bookings = [str(uuid.uuid4()) for _ in range(REQUESTS)]
    broker.send_all(
        raw("HoldTicketsRequest", {"bookingId": booking, "eventId": event_id, "numberOfTickets": 1},
            message_id=new_id())
        for booking in bookings
    )

    assert eventually(lambda: database.inbox_count("hold-tickets") >= REQUESTS // 3, timeout=30)
    first.kill()
    applied_before_kill = database.inbox_count("hold-tickets")
    assert applied_before_kill < REQUESTS, "the stream was over before the kill"
    spawn("hold-tickets")

    assert len(listener.receive(count=REQUESTS, timeout=60)) >= REQUESTS
    time.sleep(0.5)  # a second answer to any request would have come by now
    listener.drain()
    answered = Counter(message.booking_id for message in listener.messages)
    assert set(answered) == set(bookings)
    assert set(answered.values()) == {1}
    assert database.inbox_count("hold-tickets") == REQUESTS

    held_events = {
        (ticket, message.booking_id)
        for message in listener.matching(types=("TicketHeldEvent",))
        for ticket in message.body["ticketIds"]
    }
    held_rows = {(ticket, owner) for ticket, (status, owner) in database.tickets(event_id).items() if status == "Held"}
    assert held_rows == held_events
    assert len(held_rows) == TICKETS
    assert max(Counter(owner for _, owner in held_rows).values()) == 1
    failures = listener.matching(types=("TicketHoldFailedEvent",))
    assert len(failures) == REQUESTS - TICKETS
    assert {(m.body["requested"], m.body["available"]) for m in failures} == {(1, 0)}
