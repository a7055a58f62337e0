"""Each consumed message, raw or in MassTransit's envelope, camelCase or PascalCase: its effect and its answer."""

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from tests.messaging.broker import assert_wire_format
from tests.messaging.database import eventually
from tests.messaging.messages import LAYOUT, LAYOUT_SEATS, camel, envelope, new_id, pascal, raw

FORMS = {
    "raw-camelCase": (raw, camel),
    "raw-PascalCase": (raw, pascal),
    "envelope-camelCase": (envelope, camel),
    "envelope-PascalCase": (envelope, pascal),
}


@pytest.fixture(params=FORMS.values(), ids=FORMS.keys())
def send(request, services, broker, namespace):
    """Publish a message to its type's exchange in one of the forms a MassTransit peer uses."""
    build, cased = request.param

    def send_message(type_name, payload, *, conversation_id=None):
        options = {"namespace": namespace} if build is envelope else {}
        outgoing = build(type_name, payload, message_id=new_id(), conversation_id=conversation_id,
                         cased=cased, **options)
        return broker.send(outgoing)

    return send_message


@pytest.fixture
def check(namespace):
    """Check an answer's type, headers and camelCase body."""

    def check_answer(message, type_name, booking_id, conversation_id):
        assert_wire_format(message, type_name, namespace=namespace, booking_id=booking_id,
                           conversation_id=conversation_id)

    return check_answer


def rest_hold(client, event_id, booking_id, ticket_ids):
    response = client.post("/api/Ticket/hold", json={
        "eventId": event_id, "bookingId": str(booking_id), "ticketIds": ticket_ids,
    })
    assert response.status_code == 200, response.get_json()


def answer_to(answers, booking_id, *types):
    found = answers.receive(booking_id, types=types)
    assert len(found) == 1, f"no {' or '.join(types)} for booking {booking_id}"
    return found[0]


def test_event_published_creates_the_events_tickets(send, database, event_id):
    send("EventPublishedEvent", {"eventId": event_id, "numberOfTickets": 25})
    assert eventually(lambda: len(database.tickets(event_id)) == 25)
    assert {status for status, _ in database.tickets(event_id).values()} == {"Available"}


def test_event_published_with_a_layout_creates_its_seats_once(send, broker, database, event_id):
    sent = send("EventPublishedEvent", {"eventId": event_id, "layout": LAYOUT})
    broker.send(sent)  # delivered twice
    again = send("EventPublishedEvent", {"eventId": event_id, "numberOfTickets": LAYOUT_SEATS, "layout": LAYOUT})
    assert eventually(lambda: database.inbox_count("event-published", sent.message_id)
                      == database.inbox_count("event-published", again.message_id) == 1)
    seats = database.seats(event_id)
    assert Counter(category for _, _, category in seats.values()) == {"A": 10, "B": 10}
    assert {status for status, _ in database.tickets(event_id).values()} == {"Available"}


def fault_of(broker, sent, queue="event-published"):
    """Return the `MT-Fault-Message` of a raw message moved to the queue's `_error`."""
    faulted = broker.take(f"{queue}_error", sent.amqp_message_id)
    assert faulted is not None, f"message {sent.message_id} was not faulted"
    return faulted.headers["MT-Fault-Message"]


UNPRICED = LAYOUT | {"categories": {"A": {"price": "120.00"}}}


@pytest.mark.parametrize(("fields", "reason"), [
    ({"numberOfTickets": LAYOUT_SEATS + 5, "layout": LAYOUT},
     f"numberOfTickets is {LAYOUT_SEATS + 5} but the layout has {LAYOUT_SEATS} seats."),
    ({"layout": UNPRICED}, "Invalid layout: {'sections': ['Unknown categories: B; price them in categories.']}"),
], ids=["another-number-of-seats", "invalid-layout"])
def test_event_published_with_a_layout_that_does_not_add_up_is_faulted(fields, reason, services, broker, database,
                                                                       event_id):
    sent = broker.send(raw("EventPublishedEvent", {"eventId": event_id} | fields, message_id=new_id()))
    assert fault_of(broker, sent) == reason
    assert database.tickets(event_id) == {}


@pytest.mark.parametrize(("made", "reason"), [("seats", "already has another layout"),
                                               ("tickets", "already has tickets made without a layout")])
def test_event_published_with_a_layout_the_event_cannot_take_is_faulted(
    made, reason, services, broker, database, make_seats, make_tickets, event_id
):
    if made == "seats":
        make_seats(event_id)
    else:
        make_tickets(event_id, 3)
    before = database.ticket_rows(event_id)
    other = LAYOUT | {"maxTicketsPerCustomer": 4}
    sent = broker.send(raw("EventPublishedEvent", {"eventId": event_id, "layout": other}, message_id=new_id()))
    assert reason in fault_of(broker, sent)
    assert database.ticket_rows(event_id) == before


def test_event_published_with_a_count_for_an_event_with_seats_is_faulted(services, broker, database, make_seats,
                                                                          event_id):
    make_seats(event_id)
    before = database.ticket_rows(event_id)
    sent = broker.send(raw("EventPublishedEvent", {"eventId": event_id, "numberOfTickets": 5}, message_id=new_id()))
    assert "has a seat layout" in fault_of(broker, sent)
    assert database.ticket_rows(event_id) == before


def test_hold_by_quantity_holds_seats_and_answers_ticket_held(send, answers, check, database, make_tickets, event_id):
    make_tickets(event_id, 5)
    booking, conversation = uuid.uuid4(), uuid.uuid4()
    send("HoldTicketsRequest", {"bookingId": str(booking), "eventId": event_id, "numberOfTickets": 2,
                                "customerId": "c-17", "holdSeconds": 120}, conversation_id=conversation)
    answer = answer_to(answers, booking, "TicketHeldEvent")
    check(answer, "TicketHeldEvent", booking, conversation)
    body = answer.body
    assert set(body) == {"bookingId", "eventId", "ticketIds", "heldUntil", "totalPrice", "currency"}
    assert body["eventId"] == event_id and len(body["ticketIds"]) == 2
    assert (body["totalPrice"], body["currency"]) == ("50.00", "USD"), "DEFAULT_TICKET_PRICE a ticket without a price"
    held = {ticket for ticket, state in database.tickets(event_id).items() if state == ("Held", str(booking))}
    assert held == set(body["ticketIds"])
    deadline = datetime.fromisoformat(body["heldUntil"])
    assert timedelta(seconds=100) < deadline - datetime.now(UTC) <= timedelta(seconds=120)


def test_hold_by_ids_holds_those_tickets(send, answers, check, database, make_tickets, event_id):
    ids = make_tickets(event_id, 4)
    booking, conversation = uuid.uuid4(), uuid.uuid4()
    send("HoldTicketsRequest", {"bookingId": str(booking), "eventId": event_id, "ticketIds": ids[1:3]},
         conversation_id=conversation)
    answer = answer_to(answers, booking, "TicketHeldEvent")
    check(answer, "TicketHeldEvent", booking, conversation)
    assert sorted(answer.body["ticketIds"]) == sorted(ids[1:3])
    states = database.tickets(event_id)
    assert [states[ticket] for ticket in ids] == [
        ("Available", None), ("Held", str(booking)), ("Held", str(booking)), ("Available", None),
    ]


def test_reserve_reserves_the_bookings_held_tickets(send, answers, check, client, database, make_tickets, event_id):
    ids = make_tickets(event_id, 3)
    booking, conversation = uuid.uuid4(), uuid.uuid4()
    rest_hold(client, event_id, booking, ids[:2])
    send("ReserveTicketsRequest", {"bookingId": str(booking), "eventId": event_id, "ticketIds": ids[:2]},
         conversation_id=conversation)
    answer = answer_to(answers, booking, "TicketReservedEvent", "TicketReservationFailedEvent")
    check(answer, "TicketReservedEvent", booking, conversation)
    assert answer.body == {"bookingId": str(booking), "eventId": event_id, "ticketIds": sorted(ids[:2])}
    states = database.tickets(event_id)
    assert [states[ticket] for ticket in ids] == [
        ("Reserved", str(booking)), ("Reserved", str(booking)), ("Available", None),
    ]


def test_release_frees_the_bookings_tickets(send, answers, check, client, database, make_tickets, event_id):
    ids = make_tickets(event_id, 3)
    booking, other, conversation = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    rest_hold(client, event_id, booking, ids[:2])
    rest_hold(client, event_id, other, ids[2:])
    send("ReleaseTicketsRequest", {"bookingId": str(booking), "eventId": event_id, "ticketIds": ids,
                                   "reason": "payment failed"}, conversation_id=conversation)
    answer = answer_to(answers, booking, "TicketsReleasedEvent")
    check(answer, "TicketsReleasedEvent", booking, conversation)
    assert answer.body == {"bookingId": str(booking), "eventId": event_id, "ticketIds": sorted(ids[:2])}
    states = database.tickets(event_id)
    assert [states[ticket] for ticket in ids] == [("Available", None), ("Available", None), ("Held", str(other))]


def test_hold_of_more_than_available_answers_hold_failed(send, answers, check, database, make_tickets, event_id):
    make_tickets(event_id, 3)
    before = database.ticket_rows(event_id)
    booking, conversation = uuid.uuid4(), uuid.uuid4()
    send("HoldTicketsRequest", {"bookingId": str(booking), "eventId": event_id, "numberOfTickets": 5},
         conversation_id=conversation)
    answer = answer_to(answers, booking, "TicketHeldEvent", "TicketHoldFailedEvent")
    check(answer, "TicketHoldFailedEvent", booking, conversation)
    body = answer.body
    assert set(body) == {"bookingId", "eventId", "reason", "requested", "available"}
    assert (body["eventId"], body["requested"], body["available"]) == (event_id, 5, 3)
    assert "Not enough tickets" in body["reason"]
    assert database.ticket_rows(event_id) == before


def test_reserve_of_a_ticket_another_booking_holds_answers_reservation_failed(
    send, answers, check, client, database, make_tickets, event_id
):
    ids = make_tickets(event_id, 2)
    rest_hold(client, event_id, uuid.uuid4(), ids[1:])
    before = database.ticket_rows(event_id)
    booking, conversation = uuid.uuid4(), uuid.uuid4()
    send("ReserveTicketsRequest", {"bookingId": str(booking), "eventId": event_id, "ticketIds": ids},
         conversation_id=conversation)
    answer = answer_to(answers, booking, "TicketReservedEvent", "TicketReservationFailedEvent")
    check(answer, "TicketReservationFailedEvent", booking, conversation)
    assert set(answer.body) == {"bookingId", "eventId", "reason"}
    assert ids[1] in answer.body["reason"] and "Held" in answer.body["reason"]
    assert database.ticket_rows(event_id) == before


def test_hold_for_an_event_without_tickets_answers_hold_failed(send, answers, check, event_id):
    booking, conversation = uuid.uuid4(), uuid.uuid4()
    send("HoldTicketsRequest", {"bookingId": str(booking), "eventId": event_id, "numberOfTickets": 1},
         conversation_id=conversation)
    answer = answer_to(answers, booking, "TicketHeldEvent", "TicketHoldFailedEvent")
    check(answer, "TicketHoldFailedEvent", booking, conversation)
    assert (answer.body["requested"], answer.body["available"]) == (1, 0)


def test_reserve_of_an_unknown_ticket_answers_reservation_failed(send, answers, check, database, make_tickets,
                                                                 event_id):
    ids = make_tickets(event_id, 1)
    unknown = str(uuid.uuid4())
    booking, conversation = uuid.uuid4(), uuid.uuid4()
    send("ReserveTicketsRequest", {"bookingId": str(booking), "eventId": event_id, "ticketIds": [ids[0], unknown]},
         conversation_id=conversation)
    answer = answer_to(answers, booking, "TicketReservedEvent", "TicketReservationFailedEvent")
    check(answer, "TicketReservationFailedEvent", booking, conversation)
    assert unknown in answer.body["reason"] and "not found" in answer.body["reason"]
    assert database.tickets(event_id) == {ids[0]: ("Available", None)}


def test_a_request_without_conversation_starts_one_at_its_message_id(send, answers, check, make_tickets, event_id):
    make_tickets(event_id, 1)
    booking = uuid.uuid4()
    sent = send("HoldTicketsRequest", {"bookingId": str(booking), "eventId": event_id, "numberOfTickets": 1})
    answer = answer_to(answers, booking, "TicketHeldEvent")
    check(answer, "TicketHeldEvent", booking, sent.message_id)
    assert answer.headers["MessageId"] != sent.message_id

