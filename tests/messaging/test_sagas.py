"""The Booking saga of each contract set against the real consumers: every booking hears back, in its own set.

Message for message as the original saga sends them (raw JSON or the envelope, camelCase
or PascalCase, nulls, indented bodies): hold → answer → reserve → answer, the release
that compensates, and the failure paths, each ending in an answer the saga reads.
"""

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pika
import pytest

from app.messaging.newid import timestamp
from tests.messaging.database import eventually
from tests.messaging.messages import LAYOUT, LAYOUT_SEATS
from tests.messaging.sagas import TICKETER, Saga, read_answer, readme_set

FORMS = {
    "raw-camelCase": ("raw", False),
    "raw-PascalCase": ("raw", True),
    "envelope-camelCase": ("envelope", False),
    "envelope-PascalCase": ("envelope", True),
}
SETTLE_SECONDS = 0.5


@pytest.fixture(params=["ticketer", "readme"])
def contracts(request, namespace):
    return TICKETER if request.param == "ticketer" else readme_set(namespace)


@pytest.fixture
def listener(broker, namespace):
    """A test queue bound to every answer of both sets and to the faults of every request."""
    sets = (TICKETER, readme_set(namespace))
    answers = {name for s in sets for name in (s.held, s.reserved, *s.hold_failed, *s.reserve_failed, *s.released)}
    faults = {f"MassTransit:Fault--{name}--" for s in sets for name in (s.hold, s.reserve, s.release)}
    return broker.listen(*sorted(answers | faults))


@pytest.fixture
def small_event_id(event_id):
    """An event id that fits the .NET `int` of the original `TicketsReservedEvent.eventId`."""
    return event_id % 2**31 or 1


def hold_payload(contracts, booking_id, event_id, count):
    """A hold as each set's saga serializes it: the .NET record with every property, nulls included."""
    if contracts is TICKETER:
        return {"bookingId": str(booking_id), "eventId": event_id, "numberOfTickets": count, "customerId": "cust-1"}
    return {"bookingId": str(booking_id), "eventId": event_id, "numberOfTickets": count, "ticketIds": None,
            "customerId": None, "holdSeconds": None}


def only(found, what):
    assert len(found) == 1, f"expected one {what}, got {[answer.type_name for answer in found]}"
    return found[0]


def assert_sent_as_masstransit_sends(answer, saga):
    """The answer's id is a NewId of now, it correlates on the booking, it continues the saga's conversation."""
    properties = answer.received.properties
    if properties.content_type == "application/json":
        message_id, correlation = answer.received.headers["MessageId"], answer.received.headers["CorrelationId"]
    else:
        envelope = json.loads(answer.received.raw_body)
        message_id, correlation = envelope["messageId"], envelope["correlationId"]
    assert message_id == properties.message_id
    assert abs(timestamp(message_id) - datetime.now(UTC)) < timedelta(minutes=1)
    assert correlation == str(saga.booking_id)


@pytest.mark.parametrize("form", FORMS.values(), ids=FORMS.keys())
def test_a_booking_holds_then_reserves_and_hears_back_in_its_own_set(
    form, contracts, services, broker, listener, database, make_tickets, small_event_id
):
    make_tickets(small_event_id, 4)
    saga = Saga(broker, listener, contracts, form=form[0], pascal=form[1])
    saga.publish(contracts.hold, hold_payload(contracts, saga.booking_id, small_event_id, 2))

    held = only(saga.answers(contracts.held), contracts.held).message
    ticket_ids = held["ticketIds"]
    assert len(ticket_ids) == 2 and held["eventId"] == small_event_id
    if contracts is TICKETER:
        assert held["numberOfTickets"] == 2 and held["totalPrice"] == "50.00"
        assert held["bookingDate"].endswith("Z")
    else:
        assert held["heldUntil"].endswith("Z")
    saga.publish(contracts.reserve, {"bookingId": str(saga.booking_id), "eventId": small_event_id,
                                     "ticketIds": ticket_ids, "customerId": "cust-1"})

    reserved = only(saga.answers(contracts.reserved), contracts.reserved)
    assert reserved.message["bookingId"] == str(saga.booking_id)
    if contracts is TICKETER:
        assert reserved.message["customerId"] == "cust-1" and reserved.message["numberOfTickets"] == 2
        assert reserved.message["createdAt"].endswith("Z") and reserved.message["bookingConfirmedAt"].endswith("Z")
    else:
        assert sorted(reserved.message["ticketIds"]) == sorted(ticket_ids)
    assert_sent_as_masstransit_sends(reserved, saga)
    tickets = database.tickets(small_event_id)
    assert {tickets[t] for t in ticket_ids} == {("Reserved", str(saga.booking_id))}
    broker.connection.sleep(SETTLE_SECONDS)
    assert len(saga.answers()) == 2, "answered in another set too"


def test_a_compensating_release_frees_the_seats_and_is_answered_as_the_set_answers_it(
    contracts, services, broker, listener, database, make_tickets, small_event_id
):
    make_tickets(small_event_id, 2)
    saga = Saga(broker, listener, contracts, form="raw")
    saga.publish(contracts.hold, hold_payload(contracts, saga.booking_id, small_event_id, 2))
    ticket_ids = only(saga.answers(contracts.held), contracts.held).message["ticketIds"]
    saga.publish(contracts.release, {"bookingId": str(saga.booking_id), "eventId": small_event_id,
                                     "ticketIds": ticket_ids, "reason": "Payment failed"})

    assert eventually(lambda: {s for s, _ in database.tickets(small_event_id).values()} == {"Available"})
    if contracts.released:
        only(saga.answers(*contracts.released), "release answer")
    broker.connection.sleep(SETTLE_SECONDS)
    assert len(saga.answers()) == 1 + len(contracts.released)


def test_a_sold_out_hold_is_answered_with_the_sets_failure_events(
    contracts, services, broker, listener, database, make_tickets, small_event_id
):
    make_tickets(small_event_id, 1)
    before = database.ticket_rows(small_event_id)
    saga = Saga(broker, listener, contracts, form="envelope")
    saga.publish(contracts.hold, hold_payload(contracts, saga.booking_id, small_event_id, 2))

    failed = saga.answers(*contracts.hold_failed, count=len(contracts.hold_failed))
    assert sorted(answer.type_name for answer in failed) == sorted(contracts.hold_failed)
    assert all("Not enough tickets" in answer.message["reason"] for answer in failed)
    assert database.ticket_rows(small_event_id) == before


@pytest.mark.parametrize("form", [FORMS["raw-camelCase"], FORMS["envelope-PascalCase"]],
                         ids=["raw-camelCase", "envelope-PascalCase"])
def test_a_seated_hold_holds_a_block_of_its_category_and_answers_what_it_costs(
    form, contracts, services, broker, listener, database, make_seats, small_event_id
):
    make_seats(small_event_id)
    saga = Saga(broker, listener, contracts, form=form[0], pascal=form[1])
    saga.publish(contracts.hold, hold_payload(contracts, saga.booking_id, small_event_id, 3)
                 | {"category": "A", "adjacent": True, "customerId": "cust-1"})

    held = only(saga.answers(contracts.held), contracts.held).message
    assert held["totalPrice"] == "360.00"
    if contracts is not TICKETER:
        assert held["currency"] == "EUR"
    seats = database.seats(small_event_id)
    places = sorted(seats[ticket] for ticket in held["ticketIds"])
    assert [(row, category) for row, _, category in places] == [("A", "A")] * 3
    assert [position for _, position, _ in places] == list(range(places[0][1], places[0][1] + 3)), "side by side"
    tickets = database.tickets(small_event_id)
    assert {tickets[ticket] for ticket in held["ticketIds"]} == {("Held", str(saga.booking_id))}


def test_a_customer_over_the_events_limit_is_answered_with_the_sets_failure_events(
    contracts, services, broker, listener, database, make_seats, small_event_id
):
    make_seats(small_event_id)  # at most LAYOUT["maxTicketsPerCustomer"] tickets a customer
    first = Saga(broker, listener, contracts, form="raw")
    first.publish(contracts.hold, hold_payload(contracts, first.booking_id, small_event_id, 2) | {"customerId": "c-9"})
    only(first.answers(contracts.held), contracts.held)
    before = database.ticket_rows(small_event_id)

    second = Saga(broker, listener, contracts, form="envelope")
    second.publish(contracts.hold, hold_payload(contracts, second.booking_id, small_event_id, 2)
                   | {"customerId": "c-9"})
    failed = second.answers(*contracts.hold_failed, count=len(contracts.hold_failed))
    assert sorted(answer.type_name for answer in failed) == sorted(contracts.hold_failed)
    limit = LAYOUT["maxTicketsPerCustomer"]
    assert all(f"at most {limit} tickets" in answer.message["reason"] and "has 2 already" in answer.message["reason"]
               for answer in failed)
    if contracts is not TICKETER:
        assert (failed[0].message["requested"], failed[0].message["available"]) == (2, limit - 2)
    assert database.ticket_rows(small_event_id) == before


def test_an_invalid_hold_is_faulted_and_still_answered(
    contracts, services, broker, listener, database, make_tickets, small_event_id
):
    make_tickets(small_event_id, 2)
    before = database.ticket_rows(small_event_id)
    saga = Saga(broker, listener, contracts, form="raw")
    sent = saga.publish(contracts.hold, hold_payload(contracts, saga.booking_id, small_event_id, 0))

    failed = saga.answers(*contracts.hold_failed, count=len(contracts.hold_failed))
    assert sorted(answer.type_name for answer in failed) == sorted(contracts.hold_failed)
    fault = only(faults_of(listener, contracts.hold, sent), "Fault")
    assert fault.types == (f"urn:message:MassTransit:Fault[[{contracts.hold}]]", "urn:message:MassTransit:Fault")
    assert fault.message["faultedMessageId"] == sent.message_id
    assert fault.message["faultMessageTypes"] == [f"urn:message:{contracts.hold}"]
    assert "numberOfTickets" in fault.message["exceptions"][0]["message"]
    assert broker.take("hold-tickets_error", sent.message_id) is not None
    assert database.ticket_rows(small_event_id) == before


def faults_of(listener, full_name, sent, timeout=10):
    """Wait for the `Fault<T>` of a sent message; return every one received."""
    exchange = f"MassTransit:Fault--{full_name}--"
    deadline = time.monotonic() + timeout
    while True:
        listener.drain()
        found = [read_answer(m) for m in listener.messages if m.exchange == exchange]
        found = [fault for fault in found if fault.message["faultedMessageId"] == sent.message_id]
        if found or time.monotonic() > deadline:
            return found
        listener.broker.connection.sleep(0.02)


def test_a_faulted_message_sent_again_after_its_cause_is_mended_is_applied(
    services, spawn, broker, listener, database, make_tickets, small_event_id, namespace
):
    make_tickets(small_event_id, 1)
    contracts = readme_set(namespace)
    saga = Saga(broker, listener, contracts, form="raw")
    payload = hold_payload(contracts, saga.booking_id, small_event_id, 1) | {"holdSeconds": 7_200}
    sent = saga.publish(contracts.hold, payload)
    assert "holdSeconds" in only(faults_of(listener, contracts.hold, sent), "Fault").message["exceptions"][0]["message"]

    spawn("hold-tickets", alone=True, HOLD_MAX_SECONDS=10_000)
    broker.send(sent, exchange=contracts.hold)
    held = only(saga.answers(contracts.held), contracts.held).message
    assert database.tickets(small_event_id)[held["ticketIds"][0]] == ("Held", str(saga.booking_id))


def test_a_faulted_message_delivered_twice_is_answered_once(
    contracts, services, broker, listener, small_event_id
):
    saga = Saga(broker, listener, contracts, form="envelope")
    sent = saga.publish(contracts.hold, hold_payload(contracts, saga.booking_id, small_event_id, 0))
    broker.send(sent, exchange=contracts.hold)

    assert len(saga.answers(*contracts.hold_failed, count=len(contracts.hold_failed))) == len(contracts.hold_failed)
    broker.connection.sleep(2 * SETTLE_SECONDS)
    assert len(faults_of(listener, contracts.hold, sent)) == 1
    assert len(saga.answers(*contracts.hold_failed)) == len(contracts.hold_failed)
    assert broker.take("hold-tickets_error", sent.message_id) is not None


def test_a_hold_of_an_unknown_ticket_is_answered_with_the_sets_failure_events(
    contracts, services, broker, listener, small_event_id
):
    saga = Saga(broker, listener, contracts, form="envelope")
    payload = hold_payload(contracts, saga.booking_id, small_event_id, 1) | {"ticketIds": [str(uuid.uuid4())]}
    saga.publish(contracts.hold, payload)

    failed = saga.answers(*contracts.hold_failed, count=len(contracts.hold_failed))
    assert sorted(answer.type_name for answer in failed) == sorted(contracts.hold_failed)
    assert all("not found" in answer.message["reason"] for answer in failed)


def test_a_reserve_of_an_unknown_ticket_is_answered_with_the_sets_failure_event(
    contracts, services, broker, listener, make_tickets, small_event_id
):
    make_tickets(small_event_id, 1)
    saga = Saga(broker, listener, contracts, form="envelope", pascal=True)
    saga.publish(contracts.reserve, {"bookingId": str(saga.booking_id), "eventId": small_event_id,
                                     "ticketIds": [str(uuid.uuid4())], "customerId": None})

    failed = only(saga.answers(*contracts.reserve_failed), "reserve failure")
    assert "not found" in failed.message["reason"]
    assert failed.message["eventId"] == small_event_id


def test_a_reserve_of_no_tickets_is_refused_not_confirmed(contracts, services, broker, listener, small_event_id):
    saga = Saga(broker, listener, contracts, form="raw")
    saga.publish(contracts.reserve, {"bookingId": str(saga.booking_id), "eventId": small_event_id,
                                     "ticketIds": [], "customerId": ""})

    failed = only(saga.answers(*contracts.reserve_failed), "reserve failure")
    assert failed.message["reason"] == "No tickets to reserve."
    broker.connection.sleep(SETTLE_SECONDS)
    assert len(saga.answers()) == 1


@pytest.fixture
def envelope_relay(services, spawn):
    """The relay alone, publishing in MassTransit's envelope."""
    return spawn("relay", alone=True, MESSAGE_FORMAT="envelope")


def test_a_peer_with_default_masstransit_settings_reads_every_answer(
    contracts, envelope_relay, broker, listener, make_tickets, small_event_id
):
    make_tickets(small_event_id, 2)
    saga = Saga(broker, listener, contracts, form="envelope")
    trace_id = uuid.uuid4().hex
    saga.publish(contracts.hold, hold_payload(contracts, saga.booking_id, small_event_id, 2),
                 activity_id=f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01")

    held = only(saga.answers(contracts.held), contracts.held)
    assert held.received.properties.content_type == "application/vnd.masstransit+json"
    envelope = json.loads(held.received.raw_body)
    assert list(envelope) == [
        "messageId", "requestId", "correlationId", "conversationId", "initiatorId", "sourceAddress",
        "destinationAddress", "responseAddress", "faultAddress", "messageType", "message", "expirationTime",
        "sentTime", "headers", "host",
    ]
    assert envelope["destinationAddress"].endswith(f"/{contracts.held}")
    assert envelope["sourceAddress"].endswith("/hold-tickets")
    assert envelope["initiatorId"] == str(saga.booking_id)
    assert datetime.fromisoformat(envelope["sentTime"]) == timestamp(envelope["messageId"])
    assert envelope["headers"]["MT-Activity-Id"].split("-")[1] == trace_id, "the saga's trace goes on"
    assert held.received.headers["MT-Activity-Id"] == held.received.headers["traceparent"]
    assert_sent_as_masstransit_sends(held, saga)


def test_a_spring_amqp_event_creation_creates_the_tickets_once_when_sent_twice(
    services, broker, database, event_id
):
    body = json.dumps({"eventId": event_id, "numberOfTickets": 7}).encode()
    for _ in range(2):
        properties = {"content_type": "application/json", "headers": {
            "__TypeId__": "org.shathursan.contracts.CreateEventTicket"}}
        broker.channel.basic_publish("events.exchange", "event.ticket.create", body,
                                     pika.BasicProperties(delivery_mode=2, **properties))
    assert eventually(lambda: len(database.tickets(event_id)) == 7)
    assert eventually(lambda: broker.queue_counts("create-event-ticket")[0] == 0)
    broker.connection.sleep(SETTLE_SECONDS)
    assert len(database.tickets(event_id)) == 7
    assert database.scalar("SELECT count(*) FROM inbox_messages WHERE consumer = 'create-event-ticket'"
                           " AND received_at > now() - interval '1 minute'") >= 1
    assert broker.queue_counts("create-event-ticket_error")[0] == 0, "the copy was faulted, not dropped"


def test_a_spring_amqp_event_creation_with_a_layout_creates_the_seats_once_when_sent_twice(
    services, broker, database, event_id
):
    body = json.dumps({"eventId": event_id, "numberOfTickets": LAYOUT_SEATS, "layout": LAYOUT}).encode()
    for _ in range(2):
        properties = {"content_type": "application/json", "headers": {
            "__TypeId__": "org.shathursan.contracts.CreateEventTicket"}}
        broker.channel.basic_publish("events.exchange", "event.ticket.create", body,
                                     pika.BasicProperties(delivery_mode=2, **properties))
    assert eventually(lambda: len(database.seats(event_id)) == LAYOUT_SEATS)
    assert eventually(lambda: broker.queue_counts("create-event-ticket")[0] == 0)
    broker.connection.sleep(SETTLE_SECONDS)
    assert {category for _, _, category in database.seats(event_id).values()} == {"A", "B"}
    assert len(database.seats(event_id)) == LAYOUT_SEATS
    assert broker.queue_counts("create-event-ticket_error")[0] == 0, "the copy was faulted, not dropped"
