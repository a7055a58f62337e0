"""Message contracts: names read in any case, unknown fields ignored, .NET shapes accepted, bad values refused."""

import json
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import marshmallow as ma
import pytest

from app.messaging.contracts import CONSUMED, PUBLISHED, spring, ticketer
from app.messaging.contracts.readme import (
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
    assert HoldTicketsRequest.parse({"bookingId": BOOKING, "eventId": 1, "numberOfTickets": 2})["ticket_ids"] is None


OTHER = "2f1a9c4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b"


@pytest.mark.parametrize(("count", "ids", "by_count", "by_ids"), [
    (2, None, 2, None),
    (2, [], 2, None),
    (2, [TICKET, OTHER], None, [TICKET, OTHER]),
    (0, [TICKET, OTHER], None, [TICKET, OTHER]),
    (None, [TICKET], None, [TICKET]),
], ids=["count-ids-null", "count-ids-empty", "both-equal", "count-zero-with-ids", "count-null-with-ids"])
@pytest.mark.parametrize("contract", [HoldTicketsRequest, ticketer.HoldTickets])
def test_a_hold_in_the_shape_a_dotnet_record_serializes_is_read(contract, count, ids, by_count, by_ids):
    parsed = contract.parse({"bookingId": BOOKING, "eventId": 1, "numberOfTickets": count, "ticketIds": ids,
                             "customerId": "", "holdSeconds": None})
    assert parsed["number_of_tickets"] == by_count
    assert parsed["ticket_ids"] == (by_ids and [uuid.UUID(i) for i in by_ids])
    assert parsed["customer_id"] is None


@pytest.mark.parametrize(("given", "category", "adjacent"), [
    ({"category": "A", "adjacent": True}, "A", True),
    ({"Category": "A", "ADJACENT": False}, "A", False),
    ({"category": None, "adjacent": None}, None, False),
    ({"category": ""}, None, False),
    ({}, None, False),
], ids=["both", "any-case", "nulls", "empty-category", "absent"])
@pytest.mark.parametrize("contract", [HoldTicketsRequest, ticketer.HoldTickets])
def test_a_hold_may_ask_for_a_category_and_adjacent_seats(contract, given, category, adjacent):
    parsed = contract.parse({"bookingId": BOOKING, "eventId": 1, "numberOfTickets": 2, "customerId": "c-1"} | given)
    assert (parsed["category"], parsed["adjacent"], parsed["customer_id"]) == (category, adjacent, "c-1")


@pytest.mark.parametrize(("count", "ids", "message"), [
    (0, None, "Give numberOfTickets or ticketIds"),
    (None, [], "Give numberOfTickets or ticketIds"),
    (3, [TICKET], "numberOfTickets is 3 but 1 ticketIds"),
])
def test_a_hold_that_says_neither_or_contradicts_itself_is_refused(count, ids, message):
    with pytest.raises(ma.ValidationError, match=message):
        ticketer.HoldTickets.parse({"bookingId": BOOKING, "eventId": 1, "numberOfTickets": count, "ticketIds": ids})


@pytest.mark.parametrize(("given", "read"), [
    ("", None), (None, None), ("cust-1", "cust-1"), (BOOKING, BOOKING), (42, "42"),
])
def test_a_customer_id_is_text_or_nothing(given, read):
    body = {"bookingId": BOOKING, "eventId": 1, "ticketIds": [TICKET], "customerId": given}
    assert ticketer.ReserveTickets.parse(body)["customer_id"] == read


@pytest.mark.parametrize("given", [True, {"id": 1}, "x" * 129])
def test_a_customer_id_of_another_kind_is_refused(given):
    with pytest.raises(ma.ValidationError, match="customerId"):
        ticketer.ReserveTickets.parse({"bookingId": BOOKING, "eventId": 1, "ticketIds": [], "customerId": given})


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
        (ticketer.HoldTickets, {"bookingId": BOOKING, "eventId": 1, "numberOfTickets": "2"}, "numberOfTickets"),
        (ticketer.ReserveTickets, {"bookingId": BOOKING, "eventId": 1, "ticketIds": None}, "ticketIds"),
        (ReserveTicketsRequest, {"bookingId": BOOKING, "eventId": 1}, "ticketIds"),
        (ReserveTicketsRequest, {"bookingId": BOOKING, "eventId": 1, "ticketIds": [TICKET] * 1001}, "ticketIds"),
        (ReleaseTicketsRequest, {"bookingId": BOOKING, "eventId": 1, "ticketIds": TICKET}, "ticketIds"),
        (ReleaseTicketsRequest, {"bookingId": BOOKING, "eventId": 1, "ticketIds": [], "reason": 5}, "reason"),
        (HoldTicketsRequest, {"bookingId": BOOKING, "eventId": 1, "numberOfTickets": 1, "adjacent": "true"},
         "adjacent"),
        (ticketer.HoldTickets, {"bookingId": BOOKING, "eventId": 1, "numberOfTickets": 1, "adjacent": 1}, "adjacent"),
        (ticketer.HoldTickets, {"bookingId": BOOKING, "eventId": 1, "numberOfTickets": 1, "category": 7}, "category"),
        (HoldTicketsRequest, {"bookingId": BOOKING, "eventId": 1, "numberOfTickets": 1, "category": "A" * 33},
         "category"),
        (EventPublishedEvent, {"eventId": 1}, "numberOfTickets"),
        (EventPublishedEvent, {"eventId": 1, "numberOfTickets": 0}, "numberOfTickets"),
        (EventPublishedEvent, {"EVENTID": 1, "numberOfTickets": "10"}, "numberOfTickets"),
        (EventPublishedEvent, {"eventId": 1, "numberOfTickets": None, "layout": None}, "numberOfTickets"),
        (EventPublishedEvent, {"eventId": 1, "numberOfTickets": -1, "layout": {"sections": []}}, "numberOfTickets"),
        (EventPublishedEvent, {"eventId": 1, "layout": "Stalls"}, "layout"),
        (spring.CreateEventTicket, {"eventId": 1, "layout": []}, "layout"),
    ],
)
def test_invalid_bodies_are_refused_naming_the_field(contract, body, field):
    with pytest.raises(ma.ValidationError) as refused:
        contract.parse(body)
    assert field in refused.value.messages


LAYOUT = {"currency": "EUR", "maxTicketsPerCustomer": 4, "categories": {"a": {"name": "Front", "price": "120.00"}},
          "sections": [{"name": "Stalls", "rows": [{"name": "A", "seats": ["1", "2"], "category": "a"}]}]}


@pytest.mark.parametrize(("given", "read"), [({}, None), ({"numberOfTickets": None}, None),
                                             ({"numberOfTickets": 0}, None), ({"numberOfTickets": 2}, 2)],
                         ids=["absent", "null", "zero", "given"])
@pytest.mark.parametrize("contract", [EventPublishedEvent, spring.CreateEventTicket])
def test_an_event_with_a_layout_may_leave_out_its_number_of_tickets(contract, given, read):
    assert contract.parse({"eventId": 3, "layout": LAYOUT} | given) == {
        "event_id": 3, "number_of_tickets": read, "layout": LAYOUT,
    }


def test_a_layout_is_read_with_its_property_names_in_any_case_and_unknown_ones_ignored():
    sent = {"Currency": "EUR", "MAXTICKETSPERCUSTOMER": 4, "Venue": "Oslo",
            "Categories": {"a": {"Name": "Front", "Price": "120.00", "Colour": "red"}},
            "Sections": [{"Name": "Stalls", "Rows": [{"Name": "A", "Seats": ["1", "2"], "Category": "a"}]}]}
    assert EventPublishedEvent.parse({"EventId": 3, "Layout": sent})["layout"] == LAYOUT


@pytest.mark.parametrize("body", [[], "text", 5, None])
def test_a_body_that_is_not_an_object_is_refused(body):
    with pytest.raises(ma.ValidationError, match="JSON object"):
        HoldTicketsRequest.parse(body)


def test_events_render_in_camel_case_with_utc_times_and_decimals_as_strings():
    two_hours_east = timezone(timedelta(hours=2))
    held = TicketHeldEvent.render(booking_id=uuid.UUID(BOOKING), event_id=4, ticket_ids=[uuid.UUID(TICKET)],
                                  held_until=datetime(2026, 5, 1, 14, 0, 1, 500000, tzinfo=two_hours_east),
                                  total_price=Decimal("120"), currency="EUR")
    assert held == {"bookingId": BOOKING, "eventId": 4, "ticketIds": [TICKET], "heldUntil": "2026-05-01T12:00:01.5Z",
                    "totalPrice": "120.00", "currency": "EUR"}
    failed = TicketHoldFailedEvent.render(booking_id=uuid.UUID(BOOKING), event_id=4, reason="none left",
                                          requested=2, available=1)
    assert failed == {"bookingId": BOOKING, "eventId": 4, "reason": "none left", "requested": 2, "available": 1}


def test_ticketer_answers_are_the_dotnet_records_with_decimals_as_strings():
    reserved = ticketer.TicketsReservedEvent.render(
        booking_id=BOOKING, event_id=4, ticket_ids=[TICKET], number_of_tickets=1, total_price=Decimal("25"),
        booking_date=datetime(2026, 5, 1, 12, 0, tzinfo=UTC))
    assert reserved == {"bookingId": BOOKING, "eventId": 4, "ticketIds": [TICKET], "numberOfTickets": 1,
                        "totalPrice": "25.00", "bookingDate": "2026-05-01T12:00:00Z"}
    confirmed = ticketer.BookingConfirmedEvent.render(
        booking_id=BOOKING, customer_id=None, event_id=4, number_of_tickets=1,
        created_at="2026-05-01T12:00:00+00:00", booking_confirmed_at="2026-05-01T12:00:00.25+00:00")
    assert confirmed == {"bookingId": BOOKING, "customerId": "", "eventId": 4, "numberOfTickets": 1,
                         "createdAt": "2026-05-01T12:00:00Z", "bookingConfirmedAt": "2026-05-01T12:00:00.25Z"}


def test_type_names_are_the_contract_names_the_peers_use():
    namespace = "Ticketer.Contracts"
    assert {queue: [c.full_name(namespace) for c in contracts] for queue, contracts in CONSUMED.items()} == {
        "event-published": ["Ticketer.Contracts:EventPublishedEvent"],
        "hold-tickets": ["Ticketer.Contracts:HoldTicketsRequest", "SharedLibrary.Contracts.Messages:HoldTickets"],
        "reserve-tickets": ["Ticketer.Contracts:ReserveTicketsRequest",
                            "SharedLibrary.Contracts.Messages:ReserveTickets"],
        "release-tickets": ["Ticketer.Contracts:ReleaseTicketsRequest",
                            "SharedLibrary.Contracts.Messages:ReleaseTickets"],
        "create-event-ticket": ["TicketService.Contracts.Messages:CreateEventTicket"],
    }
    assert [contract.urn(namespace) for contract in PUBLISHED] == [
        "urn:message:Ticketer.Contracts:TicketHeldEvent",
        "urn:message:Ticketer.Contracts:TicketHoldFailedEvent",
        "urn:message:Ticketer.Contracts:TicketReservedEvent",
        "urn:message:Ticketer.Contracts:TicketReservationFailedEvent",
        "urn:message:Ticketer.Contracts:TicketsReleasedEvent",
        "urn:message:Ticketer.Contracts:TicketHoldExpiredEvent",
        "urn:message:SharedLibrary.Contracts.Events:TicketsReservedEvent",
        "urn:message:SharedLibrary.Contracts.Events:TicketReservationFailedEvent",
        "urn:message:SharedLibrary.Contracts.Events:BookingConfirmedEvent",
        "urn:message:SharedLibrary.Contracts.Events:BookingFailedEvent",
    ]


DOCS = Path(__file__).parents[2] / "docs" / "messaging.md"
EXAMPLES = re.findall(r"```json ([\w.]+:\w+)\n(.*?)```", DOCS.read_text(), flags=re.DOTALL)
CONTRACTS = {contract.full_name("Ticketer.Contracts"): contract
             for contract in [*(c for contracts in CONSUMED.values() for c in contracts), *PUBLISHED]}


@pytest.mark.parametrize(("full_name", "body"), EXAMPLES, ids=[name for name, _ in EXAMPLES])
def test_the_examples_in_the_docs_are_read_and_written_as_shown(full_name, body):
    contract, message = CONTRACTS[full_name], json.loads(body)
    parsed = contract.parse(message)
    if contract in PUBLISHED:
        assert contract.render(**parsed) == message


def test_the_docs_show_an_example_of_every_seated_message():
    assert {name.rsplit(":", 1)[1] for name, _ in EXAMPLES} == {
        "EventPublishedEvent", "HoldTicketsRequest", "TicketHeldEvent", "HoldTickets", "TicketsReservedEvent",
        "TicketHoldFailedEvent",
    }
