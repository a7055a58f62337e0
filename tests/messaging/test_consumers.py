"""Each consumed message, raw or in MassTransit's envelope, camelCase or PascalCase: its effect and its answer."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.messaging.broker import assert_wire_format
from tests.messaging.database import eventually
from tests.messaging.messages import camel, envelope, new_id, pascal, raw

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


def test_hold_by_quantity_holds_seats_and_answers_ticket_held(send, answers, check, database, make_tickets, event_id):
    make_tickets(event_id, 5)
    booking, conversation = uuid.uuid4(), uuid.uuid4()
    send("HoldTicketsRequest", {"bookingId": str(booking), "eventId": event_id, "numberOfTickets": 2,
                                "customerId": "c-17", "holdSeconds": 120}, conversation_id=conversation)
    answer = answer_to(answers, booking, "TicketHeldEvent")
    check(answer, "TicketHeldEvent", booking, conversation)
    body = answer.body
    assert set(body) == {"bookingId", "eventId", "ticketIds", "heldUntil"}
    assert body["eventId"] == event_id and len(body["ticketIds"]) == 2
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

