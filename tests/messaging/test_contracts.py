"""Message contracts: names read in any case, unknown fields ignored, bad values refused."""

import uuid

import marshmallow as ma
import pytest

from app.messaging.contracts import (
    CONSUMED,
    PUBLISHED,
    EventPublishedEvent,
    HoldTicketsRequest,
    ReleaseTicketsRequest,
    ReserveTicketsRequest,
    TicketHeldEvent,
    TicketHoldFailedEvent,
)

BOOKING = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
TICKET = "16fd2706-8baf-433b-82eb-8c7fada847da"


def recase(document, how):
    return {how(key): value for key, value in document.items()}


@pytest.mark.parametrize("how", [str, lambda k: k[0].upper() + k[1:], str.lower, str.upper],
                         ids=["camelCase", "PascalCase", "lowercase", "UPPERCASE"])
def test_property_names_are_read_in_any_case(how):
    body = {"bookingId": BOOKING, "eventId": 7, "ticketIds": [TICKET], "reason": "timeout"}
    assert ReleaseTicketsRequest.parse(recase(body, how)) == {
        "booking_id": uuid.UUID(BOOKING), "event_id": 7, "ticket_ids": [uuid.UUID(TICKET)], "reason": "timeout",
    }


def test_unknown_properties_are_ignored():
    body = {"eventId": 3, "numberOfTickets": 10, "eventName": "Concert", "Venue": {"city": "Oslo"}}
    assert EventPublishedEvent.parse(body) == {"event_id": 3, "number_of_tickets": 10}


def test_optional_properties_of_a_hold_may_be_absent_or_null():
    parsed = HoldTicketsRequest.parse({"BookingId": BOOKING, "EventId": 1, "NumberOfTickets": 2,
                                       "CustomerId": None, "HoldSeconds": None})
    assert parsed["number_of_tickets"] == 2 and parsed["hold_seconds"] is None
    assert "ticket_ids" not in HoldTicketsRequest.parse({"bookingId": BOOKING, "eventId": 1, "numberOfTickets": 2})


@pytest.mark.parametrize(
    ("contract", "body", "field"),
    [
        (HoldTicketsRequest, {"eventId": 1, "numberOfTickets": 1}, "bookingId"),
        (HoldTicketsRequest, {"bookingId": "not-a-uuid", "eventId": 1, "numberOfTickets": 1}, "bookingId"),
        (HoldTicketsRequest, {"bookingId": BOOKING, "eventId": "1", "numberOfTickets": 1}, "eventId"),
        (HoldTicketsRequest, {"bookingId": BOOKING, "eventId": 1.5, "numberOfTickets": 1}, "eventId"),
        (HoldTicketsRequest, {"bookingId": BOOKING, "eventId": True, "numberOfTickets": 1}, "eventId"),
        (HoldTicketsRequest, {"bookingId": BOOKING, "eventId": 0, "numberOfTickets": 1}, "eventId"),
        (HoldTicketsRequest, {"bookingId": BOOKING, "eventId": 2**63, "numberOfTickets": 1}, "eventId"),
        (HoldTicketsRequest, {"bookingId": BOOKING, "eventId": 1, "numberOfTickets": 1001}, "numberOfTickets"),
        (HoldTicketsRequest, {"bookingId": BOOKING, "eventId": 1, "holdSeconds": 0, "numberOfTickets": 1},
         "holdSeconds"),
        (HoldTicketsRequest, {"bookingId": BOOKING, "eventId": 1, "ticketIds": ["x"]}, "ticketIds"),
        (ReserveTicketsRequest, {"bookingId": BOOKING, "eventId": 1}, "ticketIds"),
        (ReserveTicketsRequest, {"bookingId": BOOKING, "eventId": 1, "ticketIds": [TICKET] * 1001}, "ticketIds"),
        (ReleaseTicketsRequest, {"bookingId": BOOKING, "eventId": 1, "ticketIds": TICKET}, "ticketIds"),
        (ReleaseTicketsRequest, {"bookingId": BOOKING, "eventId": 1, "ticketIds": [], "reason": 5}, "reason"),
        (EventPublishedEvent, {"eventId": 1}, "numberOfTickets"),
        (EventPublishedEvent, {"eventId": 1, "numberOfTickets": 0}, "numberOfTickets"),
        (EventPublishedEvent, {"EVENTID": 1, "numberOfTickets": "10"}, "numberOfTickets"),
    ],
)
def test_invalid_bodies_are_refused_naming_the_field(contract, body, field):
    with pytest.raises(ma.ValidationError) as refused:
        contract.parse(body)
    assert field in refused.value.messages


@pytest.mark.parametrize("body", [[], "text", 5, None])
def test_a_body_that_is_not_an_object_is_refused(body):
    with pytest.raises(ma.ValidationError, match="JSON object"):
        HoldTicketsRequest.parse(body)


def test_events_render_in_camel_case():
    held = TicketHeldEvent.render(booking_id=uuid.UUID(BOOKING), event_id=4, ticket_ids=[uuid.UUID(TICKET)],
                                  held_until=None)
    assert held == {"bookingId": BOOKING, "eventId": 4, "ticketIds": [TICKET], "heldUntil": None}
    failed = TicketHoldFailedEvent.render(booking_id=uuid.UUID(BOOKING), event_id=4, reason="none left",
                                          requested=2, available=1)
    assert failed == {"bookingId": BOOKING, "eventId": 4, "reason": "none left", "requested": 2, "available": 1}


def test_type_names_are_the_contract_names_masstransit_peers_use():
    assert {queue: contract.type_name() for queue, contract in CONSUMED.items()} == {
        "event-published": "EventPublishedEvent",
        "hold-tickets": "HoldTicketsRequest",
        "reserve-tickets": "ReserveTicketsRequest",
        "release-tickets": "ReleaseTicketsRequest",
    }
    assert [contract.type_name() for contract in PUBLISHED] == [
        "TicketHeldEvent", "TicketHoldFailedEvent", "TicketReservedEvent",
        "TicketReservationFailedEvent", "TicketsReleasedEvent", "TicketHoldExpiredEvent",
    ]
