"""Golden shapes: what the relay writes, field for field, as MassTransit 8 writes it.

The envelope and `Fault<T>` follow MassTransit's System.Text.Json serializer (every
property written, in its declaration order; UTC times with `Z`; decimals as strings);
raw messages carry the headers of its raw serializer; ids are NewIds whose time a .NET
peer reads back.
"""

import json
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from app.messaging.faults import FAULTED, Failure, error_headers, skipped_headers
from app.messaging.host import address, host_info
from app.messaging.newid import new_id, timestamp
from app.messaging.outbound import wire_messages
from app.tickets.events import Happened

BOOKING = "3f2b8c1e-0d4a-4c1e-9a57-2f4f1c6b9e10"
TICKETS = ["0d8f6a34-1b2c-4d5e-8f90-a1b2c3d4e5f6", "1e9a7b45-2c3d-4e6f-9a01-b2c3d4e5f6a7"]
SAGA_MESSAGE = "67120000-0002-ac11-3680-08dc69d63a44"
SAGA_CONVERSATION = "67120100-0002-ac11-3680-08dc69d63a44"
RECORDED = datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
CONFIG = {
    "MESSAGE_NAMESPACE": "Ticketer.Contracts",
    "MESSAGE_CONTRACTS": ("readme",),
    "DEFAULT_TICKET_PRICE": "25.00",
    "DEFAULT_CURRENCY": "USD",
    "RABBITMQ_URL": "amqp://guest:guest@rabbit.example:5672/sales",
}
ENVELOPE_FIELDS = [
    "messageId", "requestId", "correlationId", "conversationId", "initiatorId", "sourceAddress",
    "destinationAddress", "responseAddress", "faultAddress", "messageType", "message", "expirationTime",
    "sentTime", "headers", "host",
]
HOST_FIELDS = ["machineName", "processName", "processId", "assembly", "assemblyVersion", "frameworkVersion",
               "massTransitVersion", "operatingSystemVersion"]


def row(kind, facts, *, contract_set="ticketer", queue="hold-tickets"):
    """An outbox row recorded while the saga's message was handled."""
    message = {"queue": queue, "contractSet": contract_set, "messageId": SAGA_MESSAGE,
               "conversationId": SAGA_CONVERSATION, "initiatorId": BOOKING, "customerId": "cust-1"}
    return SimpleNamespace(id=70_001, message_type=str(kind), body=facts, created_at=RECORDED,
                           headers={"correlationId": SAGA_CONVERSATION, "message": message,
                                    "traceparent": TRACEPARENT})


def published(outbox_row, message_format):
    messages = wire_messages(outbox_row, CONFIG | {"MESSAGE_FORMAT": message_format},
                             {"traceparent": TRACEPARENT, "MT-Activity-Id": TRACEPARENT})
    return [(m.exchange, m.properties, json.loads(m.body)) for m in messages]


HELD = {"booking_id": BOOKING, "event_id": 42, "ticket_ids": TICKETS, "held_until": "2026-05-01T12:10:00+00:00"}


def test_an_answer_in_the_envelope_is_every_field_masstransit_writes():
    ((exchange, properties, envelope),) = published(row(Happened.TICKETS_HELD, HELD), "envelope")
    message_id = str(new_id(RECORDED, worker=70_001 >> 16, process=0, sequence=70_001))
    assert exchange == "SharedLibrary.Contracts.Events:TicketsReservedEvent"
    assert list(envelope) == ENVELOPE_FIELDS
    assert envelope == {
        "messageId": message_id,
        "requestId": None,
        "correlationId": BOOKING,
        "conversationId": SAGA_CONVERSATION,
        "initiatorId": BOOKING,
        "sourceAddress": "rabbitmq://rabbit.example/sales/hold-tickets",
        "destinationAddress": "rabbitmq://rabbit.example/sales/SharedLibrary.Contracts.Events:TicketsReservedEvent",
        "responseAddress": None,
        "faultAddress": None,
        "messageType": ["urn:message:SharedLibrary.Contracts.Events:TicketsReservedEvent"],
        "message": {"bookingId": BOOKING, "eventId": 42, "ticketIds": TICKETS, "numberOfTickets": 2,
                    "totalPrice": "50.00", "bookingDate": "2026-05-01T12:00:00.123456Z"},
        "expirationTime": None,
        "sentTime": "2026-05-01T12:00:00.123456Z",
        "headers": {"traceparent": TRACEPARENT, "MT-Activity-Id": TRACEPARENT,
                    "X-Correlation-ID": SAGA_CONVERSATION},
        "host": host_info(),
    }
    assert list(envelope["host"]) == HOST_FIELDS
    assert timestamp(envelope["messageId"]) == RECORDED
    assert properties.content_type == "application/vnd.masstransit+json"
    assert properties.delivery_mode == 2
    assert properties.message_id == message_id and properties.correlation_id == BOOKING


def test_a_raw_answer_carries_the_raw_serializers_transport_headers():
    reserved = {"booking_id": BOOKING, "event_id": 42, "ticket_ids": TICKETS}
    ((exchange, properties, body),) = published(row(Happened.TICKETS_RESERVED, reserved, queue="reserve-tickets"),
                                                "raw")
    assert exchange == "SharedLibrary.Contracts.Events:BookingConfirmedEvent"
    assert body == {"bookingId": BOOKING, "customerId": "cust-1", "eventId": 42, "numberOfTickets": 2,
                    "createdAt": "2026-05-01T12:00:00.123456Z", "bookingConfirmedAt": "2026-05-01T12:00:00.123456Z"}
    headers = dict(properties.headers)
    host = json.loads(headers.pop("MT-Host-Info"))
    assert list(host) == [name[:1].upper() + name[1:] for name in HOST_FIELDS]
    assert headers == {
        "MessageId": properties.message_id,
        "CorrelationId": BOOKING,
        "ConversationId": SAGA_CONVERSATION,
        "MT-InitiatorId": BOOKING,
        "MT-MessageType": "urn:message:SharedLibrary.Contracts.Events:BookingConfirmedEvent",
        "MT-Source-Address": "rabbitmq://rabbit.example/sales/reserve-tickets",
        "traceparent": TRACEPARENT,
        "MT-Activity-Id": TRACEPARENT,
        "X-Correlation-ID": SAGA_CONVERSATION,
    }
    assert properties.content_type == "application/json" and properties.delivery_mode == 2
    assert timestamp(properties.message_id) == RECORDED


def test_a_failed_hold_in_the_ticketer_set_is_both_of_the_events_the_saga_may_wait_for():
    refused = {"booking_id": BOOKING, "event_id": 42, "reason": "Not enough tickets", "requested": 2, "available": 1}
    answers = published(row(Happened.HOLD_REFUSED, refused), "raw")
    assert [(exchange, body) for exchange, _, body in answers] == [
        ("SharedLibrary.Contracts.Events:TicketReservationFailedEvent",
         {"bookingId": BOOKING, "reason": "Not enough tickets"}),
        ("SharedLibrary.Contracts.Events:BookingFailedEvent",
         {"bookingId": BOOKING, "reason": "Not enough tickets", "eventId": 42}),
    ]
    assert len({properties.message_id for _, properties, _ in answers}) == 2


def test_an_event_nobody_asked_for_goes_out_in_every_configured_set():
    rest_hold = SimpleNamespace(id=9, message_type=str(Happened.TICKETS_HELD), body=HELD, created_at=RECORDED,
                                headers={"correlationId": "rest-7", "message": None})
    config = CONFIG | {"MESSAGE_FORMAT": "raw", "MESSAGE_CONTRACTS": ("readme", "ticketer")}
    messages = wire_messages(rest_hold, config, {})
    assert [m.exchange for m in messages] == ["Ticketer.Contracts:TicketHeldEvent",
                                              "SharedLibrary.Contracts.Events:TicketsReservedEvent"]
    assert {m.properties.headers["MT-Source-Address"] for m in messages} == {"rabbitmq://rabbit.example/sales/ticket-service"}
    assert {m.properties.headers["ConversationId"] for m in messages} == {str(uuid.uuid5(uuid.NAMESPACE_URL,
                                                                                            "correlation:rest-7"))}


def test_fault_of_t_is_published_as_masstransit_publishes_it():
    faulted = {"queue": "hold-tickets", "message_type": "SharedLibrary.Contracts.Messages:HoldTickets",
               "message_types": ["urn:message:SharedLibrary.Contracts.Messages:HoldTickets"],
               "message": {"bookingId": BOOKING, "eventId": 42, "numberOfTickets": 0, "customerId": None},
               "exception_type": "app.messaging.processing.Unreadable", "reason": "Give numberOfTickets or ticketIds."}
    ((exchange, _, envelope),) = published(row(FAULTED, faulted), "envelope")
    assert exchange == "MassTransit:Fault--SharedLibrary.Contracts.Messages:HoldTickets--"
    assert list(envelope) == ENVELOPE_FIELDS
    assert envelope["messageType"] == [
        "urn:message:MassTransit:Fault[[SharedLibrary.Contracts.Messages:HoldTickets]]",
        "urn:message:MassTransit:Fault",
    ]
    assert envelope["destinationAddress"] == (
        "rabbitmq://rabbit.example/sales/MassTransit:Fault--SharedLibrary.Contracts.Messages:HoldTickets--")
    assert envelope["sourceAddress"] == "rabbitmq://rabbit.example/sales/hold-tickets"
    assert envelope["conversationId"] == SAGA_CONVERSATION and envelope["correlationId"] is None
    fault = envelope["message"]
    assert list(fault) == ["faultId", "faultedMessageId", "timestamp", "exceptions", "host", "faultMessageTypes",
                           "message"]
    assert fault == {
        "faultId": str(new_id(RECORDED, worker=70_001 >> 16, process=1, sequence=70_001)),
        "faultedMessageId": SAGA_MESSAGE,
        "timestamp": "2026-05-01T12:00:00.123456Z",
        "exceptions": [{"exceptionType": "app.messaging.processing.Unreadable", "innerException": None,
                        "stackTrace": "", "message": "Give numberOfTickets or ticketIds.",
                        "source": "ticket-service", "data": None}],
        "host": host_info(),
        "faultMessageTypes": ["urn:message:SharedLibrary.Contracts.Messages:HoldTickets"],
        "message": faulted["message"],
    }


def test_the_error_queue_headers_are_masstransits():
    headers = error_headers({"MessageId": SAGA_MESSAGE}, Failure("app.errors.InvalidRequest", "x" * 3000),
                            input_address="rabbitmq://localhost/hold-tickets",
                            consumer_type="app.messaging.handlers.on_hold_requested",
                            full_name="SharedLibrary.Contracts.Messages:HoldTickets")
    assert headers["MessageId"] == SAGA_MESSAGE
    assert headers["MT-Reason"] == "fault"
    assert headers["MT-Fault-ExceptionType"] == "app.errors.InvalidRequest"
    assert headers["MT-Fault-Message"] == "x" * 2048
    assert headers["MT-Fault-InputAddress"] == "rabbitmq://localhost/hold-tickets"
    assert headers["MT-Fault-ConsumerType"] == "app.messaging.handlers.on_hold_requested"
    assert headers["MT-Fault-MessageType"] == "SharedLibrary.Contracts.Messages.HoldTickets"
    assert headers["MT-Fault-RetryCount"] == 0 and headers["MT-Fault-StackTrace"] == ""
    stamp = headers["MT-Fault-Timestamp"]
    assert len(stamp.split(".")[1]) == 8 and stamp.endswith("Z"), "seven fractional digits, as .NET's O format"
    host = {f"MT-Host-{name[:1].upper()}{name[1:]}" for name in HOST_FIELDS}
    assert host <= set(headers) and all(isinstance(headers[name], str) for name in host)
    skipped = skipped_headers({"MessageId": SAGA_MESSAGE})
    assert skipped["MT-Reason"] == "dead-letter" and host <= set(skipped)
    assert not any(name.startswith("MT-Fault-") for name in skipped)


@pytest.mark.parametrize(("guid", "made"), [
    ("181c0000-6393-3630-36a4-08daf4e7c6da", datetime(2023, 1, 12, 21, 55, 53, 715882, tzinfo=UTC)),
    (SAGA_MESSAGE, datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)),
])
def test_newids_read_back_the_time_masstransit_wrote_in_them(guid, made):
    assert timestamp(guid) == made


def test_newids_are_time_ordered_in_their_last_groups_and_unique_per_part():
    earlier, later = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC)
    first = str(new_id(earlier, worker=1, process=0, sequence=1))
    second = str(new_id(later, worker=1, process=0, sequence=1))
    assert first.split("-")[4] + first.split("-")[3] < second.split("-")[4] + second.split("-")[3]
    ids = {new_id(earlier, worker=w, process=p, sequence=s) for w in range(3) for p in range(3) for s in range(3)}
    assert len(ids) == 27


@pytest.mark.parametrize(("url", "expected"), [
    ("amqp://guest:guest@127.0.0.1:5672/%2F", "rabbitmq://127.0.0.1/hold-tickets"),
    ("amqp://guest:guest@rabbit:5673/tickets%20live", "rabbitmq://rabbit:5673/tickets%20live/hold-tickets"),
    ("amqp://rabbit", "rabbitmq://rabbit/hold-tickets"),
    ("amqp://g:g@rabbit-1:5672/%2F, amqp://g:g@rabbit-2:5672/%2F", "rabbitmq://rabbit-1/hold-tickets"),
])
def test_addresses_are_masstransits(url, expected):
    assert address(url, "hold-tickets") == expected


def test_a_row_written_before_domain_events_goes_out_as_it_was_written():
    body = {"bookingId": BOOKING, "eventId": 42, "ticketIds": TICKETS, "heldUntil": "2026-05-01T12:10:00+00:00"}
    legacy = SimpleNamespace(id=3, message_type="TicketHeldEvent", body=body, created_at=RECORDED,
                             headers={"MT-MessageType": "urn:message:Ticketer.Contracts:TicketHeldEvent"})
    ((message),) = wire_messages(legacy, CONFIG | {"MESSAGE_FORMAT": "raw"}, {})
    assert message.exchange == "Ticketer.Contracts:TicketHeldEvent"
    assert json.loads(message.body) == body


def test_a_row_of_an_unknown_kind_is_refused():
    unknown = SimpleNamespace(id=4, message_type="SomethingElse", body={}, created_at=RECORDED, headers={})
    with pytest.raises(ValueError, match="SomethingElse"):
        wire_messages(unknown, CONFIG | {"MESSAGE_FORMAT": "raw"}, {})
