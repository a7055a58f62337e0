"""Each message is applied once: redeliveries and duplicates change nothing and answer nothing more."""

import uuid

import pytest

from tests.messaging.database import eventually
from tests.messaging.messages import envelope, new_id, raw

HOLD = "HoldTicketsRequest"
PUBLISHED = "EventPublishedEvent"


@pytest.fixture
def build(namespace):
    """Build a message in a given form: `raw`, `envelope`, or `anonymous` (raw, without any id)."""

    def build_message(form, type_name, payload, message_id=None):
        if form == "envelope":
            return envelope(type_name, payload, namespace=namespace, message_id=message_id or new_id())
        if form == "anonymous":
            return raw(type_name, payload)
        return raw(type_name, payload, message_id=message_id or new_id())

    return build_message


def hold_request(event_id, booking_id, count=1):
    return {"bookingId": str(booking_id), "eventId": event_id, "numberOfTickets": count}


def audit_rows(database, event_id):
    return database.scalar(
        "SELECT count(*) FROM ticket_status_changes c JOIN tickets t ON t.id = c.ticket_id WHERE t.event_id = :e",
        e=event_id,
    )


@pytest.mark.parametrize("form", ["raw", "envelope", "anonymous"])
def test_the_same_hold_message_twice_is_applied_and_answered_once(
    form, services, broker, answers, build, database, make_tickets, event_id
):
    make_tickets(event_id, 5)
    booking = uuid.uuid4()
    first = build(form, HOLD, hold_request(event_id, booking, 2))
    broker.send(first)
    assert len(answers.receive(booking)) == 1
    state, audited = database.ticket_rows(event_id), audit_rows(database, event_id)

    broker.send(first)
    sentinel = uuid.uuid4()
    broker.send(build("raw", HOLD, hold_request(event_id, sentinel)))
    assert answers.receive(sentinel), "the message after the copy was not answered"

    assert len(answers.matching(booking)) == 1
    changed = {ticket for ticket, row in database.ticket_rows(event_id).items() if row != state.get(ticket)}
    assert changed == set(answers.matching(sentinel)[0].body["ticketIds"])
    assert audit_rows(database, event_id) == audited + 1
    assert database.inbox_count("hold-tickets") == 2


def test_a_new_hold_message_for_the_same_booking_answers_with_the_same_tickets(
    services, broker, answers, build, database, make_tickets, event_id
):
    make_tickets(event_id, 6)
    booking = uuid.uuid4()
    broker.send(build("raw", HOLD, hold_request(event_id, booking, 2)))
    first = answers.receive(booking)[0].body
    broker.send(build("envelope", HOLD, hold_request(event_id, booking, 3)))
    bodies = [message.body for message in answers.receive(booking, count=2)]
    assert len(bodies) == 2 and bodies[1] == first
    assert [message.type_name for message in answers.matching(booking)] == ["TicketHeldEvent"] * 2
    held = {ticket for ticket, (status, owner) in database.tickets(event_id).items() if status == "Held"}
    assert held == set(first["ticketIds"])
    assert database.inbox_count("hold-tickets") == 2


def published(database, event_id, count):
    return eventually(lambda: len(database.tickets(event_id)) == count)


def test_an_event_published_twice_with_the_same_id_creates_its_tickets_once(
    services, broker, build, database, event_id
):
    message = build("envelope", PUBLISHED, {"eventId": event_id, "numberOfTickets": 40})
    broker.send(message)
    broker.send(message)
    broker.send(build("raw", PUBLISHED, {"eventId": event_id + 1, "numberOfTickets": 1}))
    assert published(database, event_id + 1, 1)
    assert len(database.tickets(event_id)) == 40
    assert database.inbox_count("event-published", message.message_id) == 1


def test_an_event_published_as_two_messages_creates_its_tickets_once(services, broker, build, database, event_id):
    payload = {"eventId": event_id, "numberOfTickets": 40}
    first, second = build("raw", PUBLISHED, payload), build("envelope", PUBLISHED, payload)
    broker.send(first)
    broker.send(second)
    assert eventually(lambda: database.inbox_count("event-published") == 2)
    assert len(database.tickets(event_id)) == 40
    assert {database.inbox_count("event-published", m.message_id) for m in (first, second)} == {1}


def test_two_consumers_racing_on_copies_of_published_events_create_each_events_tickets_once(
    services, fleet, spawn, broker, build, database, event_id
):
    spawn("event-published")
    assert broker.queue_counts("event-published")[1] == 2
    events = [event_id + n for n in range(10)]
    for n, event in enumerate(events):
        payload = {"eventId": event, "numberOfTickets": 1500}
        first = build("raw", PUBLISHED, payload)
        # Round-robin hands one copy to each consumer: they create the same event at once.
        # Half the events come as one message delivered twice, half as two messages.
        broker.send(first)
        broker.send(first if n % 2 else build("raw", PUBLISHED, payload))
    assert eventually(lambda: database.inbox_count("event-published") == 15, timeout=30)
    fleet.stop("event-published")  # each finishes its message in hand and returns the rest
    assert broker.queue_counts("event-published") == (0, 0), "some copies were never settled"
    counts = {event: len(database.tickets(event)) for event in events}
    assert counts == dict.fromkeys(events, 1500)
