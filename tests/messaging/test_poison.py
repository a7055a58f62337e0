"""Messages that can never be processed go to `{queue}_error` with the reason; the database stays as it was."""

import json
import uuid
from dataclasses import dataclass, replace

import pytest

from tests.messaging.database import eventually
from tests.messaging.messages import ENVELOPE, RAW, Outgoing, envelope, new_id, raw


@dataclass
class Scene:
    """What a case may refer to: the test's event and its tickets, a ticket of another event.

    The good message sent after the poison works on an event of its own (`good_event`).
    """

    event_id: int
    tickets: list
    foreign_ticket: str
    good_ticket: str
    namespace: str

    @property
    def good_event(self):
        return self.event_id + 2


def request_body(scene, **fields):
    return {"bookingId": new_id(), "eventId": scene.event_id} | fields


def poison_bytes(type_name, data, content_type=RAW):
    return Outgoing(type_name, data, content_type, new_id())


def as_raw(type_name, document):
    return raw(type_name, document, message_id=new_id())


def as_envelope(scene, type_name, document, message_type=None):
    built = envelope(type_name, document, namespace=scene.namespace, message_id=new_id())
    if message_type:
        enveloped = json.loads(built.body) | {"messageType": [f"urn:message:{scene.namespace}:{message_type}"]}
        built = Outgoing(type_name, json.dumps(enveloped).encode(), ENVELOPE, built.message_id)
    return built


def enveloped_without_message(scene, type_name):
    document = {"messageId": new_id(), "messageType": [f"urn:message:{scene.namespace}:{type_name}"]}
    return Outgoing(type_name, json.dumps(document).encode(), ENVELOPE, document["messageId"])


HOLD, RESERVE, RELEASE, PUBLISHED = (
    "HoldTicketsRequest", "ReserveTicketsRequest", "ReleaseTicketsRequest", "EventPublishedEvent",
)
CASES = {
    "hold-bad-json": (HOLD, lambda s: poison_bytes(HOLD, b'{"bookingId": '), "not JSON"),
    "hold-not-utf8": (HOLD, lambda s: poison_bytes(HOLD, b"\xff\xfe{}"), "not JSON"),
    "hold-envelope-without-message": (HOLD, lambda s: enveloped_without_message(s, HOLD), "without a message"),
    "hold-array": (HOLD, lambda s: poison_bytes(HOLD, b"[1, 2]"), "JSON object"),
    "hold-missing-booking": (
        HOLD, lambda s: as_raw(HOLD, {"eventId": s.event_id, "numberOfTickets": 1}), "bookingId"),
    "hold-event-id-text": (
        HOLD, lambda s: as_raw(HOLD, request_body(s, eventId=str(s.event_id), numberOfTickets=1)), "eventId"),
    "hold-neither-count-nor-ids": (HOLD, lambda s: as_raw(HOLD, request_body(s)), "numberOfTickets or ticketIds"),
    "hold-count-contradicts-ids": (
        HOLD, lambda s: as_raw(HOLD, request_body(s, numberOfTickets=2, ticketIds=s.tickets[:1])),
        "numberOfTickets is 2 but 1 ticketIds"),
    "hold-count-zero-ids-null": (
        HOLD, lambda s: as_raw(HOLD, request_body(s, numberOfTickets=0, ticketIds=None)),
        "numberOfTickets or ticketIds"),
    "hold-seconds-over-the-maximum": (
        HOLD, lambda s: as_raw(HOLD, request_body(s, numberOfTickets=1, holdSeconds=10**6)), "holdSeconds"),
    "hold-ticket-of-another-event": (
        HOLD, lambda s: as_envelope(s, HOLD, request_body(s, ticketIds=[s.tickets[0], s.foreign_ticket])),
        "do not belong to event"),
    "reserve-ticket-of-another-event": (
        RESERVE, lambda s: as_raw(RESERVE, request_body(s, ticketIds=[s.tickets[0], s.foreign_ticket])),
        "do not belong to event"),
    "reserve-missing-ticket-ids": (RESERVE, lambda s: as_envelope(s, RESERVE, request_body(s)), "ticketIds"),
    "reserve-booking-not-a-uuid": (
        RESERVE, lambda s: as_raw(RESERVE, request_body(s, bookingId="B-1", ticketIds=s.tickets[:1])), "bookingId"),
    "release-missing-booking": (
        RELEASE, lambda s: as_raw(RELEASE, {"eventId": s.event_id, "ticketIds": s.tickets[:1]}), "bookingId"),
    "release-bad-json": (RELEASE, lambda s: poison_bytes(RELEASE, b"}{", ENVELOPE), "not JSON"),
    "published-no-tickets": (
        PUBLISHED, lambda s: as_raw(PUBLISHED, {"eventId": s.event_id, "numberOfTickets": 0}), "numberOfTickets"),
    "published-again-with-another-number": (
        PUBLISHED, lambda s: as_raw(PUBLISHED, {"eventId": s.event_id, "numberOfTickets": 9}), "numberOfTickets"),
}
SKIPPED = {
    "hold-of-a-reserve-type": (
        HOLD, lambda s: as_envelope(s, HOLD, request_body(s, ticketIds=s.tickets[:1]), message_type=RESERVE)),
    "published-of-a-hold-type": (
        PUBLISHED,
        lambda s: as_envelope(s, PUBLISHED, {"eventId": s.event_id + 1, "numberOfTickets": 2}, message_type=HOLD)),
}
QUEUES = {HOLD: "hold-tickets", RESERVE: "reserve-tickets", RELEASE: "release-tickets", PUBLISHED: "event-published"}


@pytest.fixture
def scene(services, broker, database, make_tickets, event_id, namespace):
    """An event published through its message (3 tickets), and a ticket of another event."""
    broker.send(raw(PUBLISHED, {"eventId": event_id, "numberOfTickets": 3}, message_id=new_id()))
    assert eventually(lambda: len(database.tickets(event_id)) == 3)
    tickets = sorted(database.tickets(event_id))
    return Scene(event_id, tickets, make_tickets(event_id + 1)[0], make_tickets(event_id + 2)[0], namespace)


def good_message(type_name, scene, booking_id):
    """A message of the type that the consumer surely processes: it shows the consumer went on."""
    if type_name == PUBLISHED:
        return raw(type_name, {"eventId": scene.good_event + 1, "numberOfTickets": 1}, message_id=new_id())
    fields = {"numberOfTickets": 1} if type_name == HOLD else {"ticketIds": [scene.good_ticket]}
    body = {"bookingId": str(booking_id), "eventId": scene.good_event} | fields
    return raw(type_name, body, message_id=new_id())


def snapshot(database, scene):
    return {
        "tickets": database.ticket_rows(scene.event_id),
        "foreign": database.ticket_rows(scene.event_id + 1),
        "outbox": database.scalar("SELECT count(*) FROM outbox_messages"),
        "inbox": database.scalar("SELECT count(*) FROM inbox_messages"),
    }


def went_on(type_name, database, answers, scene, booking_id):
    if type_name == PUBLISHED:
        return eventually(lambda: len(database.tickets(scene.good_event + 1)) == 1)
    return answers.receive(booking_id)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_poison_message_goes_to_the_error_queue_and_the_next_one_is_processed(
    case, scene, broker, answers, database
):
    type_name, build, reason = case
    queue = QUEUES[type_name]
    poison = build(scene)
    poison = replace(poison, amqp_message_id=poison.message_id)  # to find it in the error queue
    before = snapshot(database, scene)
    broker.send(poison)
    booking_id = uuid.uuid4()
    broker.send(good_message(type_name, scene, booking_id))
    assert went_on(type_name, database, answers, scene, booking_id)

    faulted = broker.take(f"{queue}_error", poison.message_id)
    assert faulted is not None, f"nothing in {queue}_error"
    assert faulted.raw_body == poison.body
    assert faulted.properties.content_type == poison.content_type
    assert faulted.headers["MT-Reason"] == "fault"
    assert reason in faulted.headers["MT-Fault-Message"]
    assert faulted.headers["MT-Fault-ExceptionType"]
    after = snapshot(database, scene)
    assert after["tickets"] == before["tickets"] and after["foreign"] == before["foreign"]
    assert database.inbox_count(queue, poison.message_id) == 0, "the poison counts as applied"
    assert database.inbox_count(f"{queue}:fault", poison.message_id) == 1, "the poison is answered once"
    assert database.scalar(
        "SELECT count(*) FROM outbox_messages WHERE message_type = 'MessageFaulted'"
        " AND headers->'message'->>'messageId' = :m", m=poison.message_id) == 1


@pytest.mark.parametrize("case", SKIPPED.values(), ids=SKIPPED.keys())
def test_a_message_of_a_type_the_queue_does_not_consume_is_skipped(case, scene, broker, answers, database):
    type_name, build = case
    queue = QUEUES[type_name]
    skipped = build(scene)
    skipped = replace(skipped, amqp_message_id=skipped.message_id)
    before = snapshot(database, scene)
    broker.send(skipped)
    booking_id = uuid.uuid4()
    broker.send(good_message(type_name, scene, booking_id))
    assert went_on(type_name, database, answers, scene, booking_id)

    moved = broker.take(f"{queue}_skipped", skipped.message_id)
    assert moved is not None, f"nothing in {queue}_skipped"
    assert moved.raw_body == skipped.body
    assert moved.headers["MT-Reason"] == "dead-letter"
    assert not any(key.startswith("MT-Fault-") for key in moved.headers)
    after = snapshot(database, scene)
    assert after["tickets"] == before["tickets"] and after["foreign"] == before["foreign"]
    assert database.inbox_count(queue, skipped.message_id) == 0
