"""The Booking saga of each contract set, played by the test: its messages as MassTransit sends them.

A saga publishes its requests to the type exchanges, raw JSON with MassTransit's
transport headers (the original services' `UseRawJsonSerializer`) or in the envelope
(a bus with default settings), camelCase or PascalCase, indented as System.Text.Json
writes them. It reads its answers as MassTransit would: the declared message type
decides what an answer is, and `bookingId` correlates it.
"""

import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from app.messaging.newid import new_id
from tests.messaging.messages import ENVELOPE, RAW, Outgoing

HOST = {"machineName": "booking-host", "processName": "BookingService", "processId": 4711,
        "assembly": "BookingService", "assemblyVersion": "1.0.0.0", "frameworkVersion": "8.0.4",
        "massTransitVersion": "8.5.2.0", "operatingSystemVersion": "Unix 6.5.0.1"}
SAGA_ADDRESS = "rabbitmq://localhost/booking-state"


@dataclass(frozen=True)
class ContractSet:
    """A set's names: what the saga publishes and which answers it reads."""

    hold: str
    reserve: str
    release: str
    held: str
    hold_failed: tuple
    reserved: str
    reserve_failed: tuple
    released: tuple


TICKETER = ContractSet(
    hold="SharedLibrary.Contracts.Messages:HoldTickets",
    reserve="SharedLibrary.Contracts.Messages:ReserveTickets",
    release="SharedLibrary.Contracts.Messages:ReleaseTickets",
    held="SharedLibrary.Contracts.Events:TicketsReservedEvent",
    hold_failed=("SharedLibrary.Contracts.Events:TicketReservationFailedEvent",
                 "SharedLibrary.Contracts.Events:BookingFailedEvent"),
    reserved="SharedLibrary.Contracts.Events:BookingConfirmedEvent",
    reserve_failed=("SharedLibrary.Contracts.Events:BookingFailedEvent",),
    released=(),
)


def readme_set(namespace):
    """The `readme` set in the run's namespace."""
    return ContractSet(
        hold=f"{namespace}:HoldTicketsRequest", reserve=f"{namespace}:ReserveTicketsRequest",
        release=f"{namespace}:ReleaseTicketsRequest", held=f"{namespace}:TicketHeldEvent",
        hold_failed=(f"{namespace}:TicketHoldFailedEvent",), reserved=f"{namespace}:TicketReservedEvent",
        reserve_failed=(f"{namespace}:TicketReservationFailedEvent",),
        released=(f"{namespace}:TicketsReleasedEvent",),
    )


def pascal_case(document):
    """Return the document with PascalCase property names, at every depth."""
    if isinstance(document, dict):
        return {key[:1].upper() + key[1:]: pascal_case(value) for key, value in document.items()}
    if isinstance(document, list):
        return [pascal_case(value) for value in document]
    return document


def _next_id(sequence=[0]):  # noqa: B006 - a counter shared by the calls
    sequence[0] += 1
    return new_id(datetime.now(UTC), worker=0xB00C, process=4711, sequence=sequence[0])


def masstransit_message(full_name, payload, *, form, pascal=False, correlation_id=None, activity_id=None):
    """Return `payload` as MassTransit publishes it: `form` raw (UseRawJsonSerializer) or envelope.

    `activity_id` (a W3C traceparent) goes where MassTransit puts its `MT-Activity-Id`.
    """
    message_id, conversation_id = _next_id(), _next_id()
    activity = {"MT-Activity-Id": activity_id} if activity_id else {}
    urn = f"urn:message:{full_name}"
    if pascal:
        payload = pascal_case(payload)
    if form == "raw":
        headers = {"MessageId": str(message_id), "ConversationId": str(conversation_id), "MT-MessageType": urn,
                   "MT-Source-Address": SAGA_ADDRESS, "MT-Host-Info": json.dumps(pascal_case(HOST))}
        if correlation_id:
            headers |= {"CorrelationId": str(correlation_id)}
        headers |= activity
        return Outgoing(full_name, json.dumps(payload, indent=2).encode(), RAW, str(message_id), str(message_id),
                        headers)
    document = {
        "messageId": str(message_id), "requestId": None,
        "correlationId": str(correlation_id) if correlation_id else None,
        "conversationId": str(conversation_id), "initiatorId": None, "sourceAddress": SAGA_ADDRESS,
        "destinationAddress": f"rabbitmq://localhost/{full_name}", "responseAddress": None, "faultAddress": None,
        "messageType": [urn], "message": payload, "expirationTime": None,
        "sentTime": datetime.now(UTC).isoformat().replace("+00:00", "Z"), "headers": activity, "host": HOST,
    }
    if pascal:
        document = {key[:1].upper() + key[1:]: value for key, value in document.items()}
    return Outgoing(full_name, json.dumps(document, indent=2).encode(), ENVELOPE, str(message_id), str(message_id),
                    activity)


@dataclass(frozen=True)
class Answer:
    """An answer as a MassTransit peer reads it: its declared types and its message."""

    types: tuple
    message: dict
    received: object

    @property
    def type_name(self):
        """Return `{namespace}:{Type}` of the answer's first declared type."""
        return self.types[0].removeprefix("urn:message:")


def read_answer(received):
    """Read a received message as MassTransit does: the envelope's `messageType`, else `MT-MessageType`."""
    document = json.loads(received.raw_body)
    if received.properties.content_type == ENVELOPE:
        return Answer(tuple(document["messageType"]), document["message"], received)
    return Answer(tuple(received.headers["MT-MessageType"].split(";")), document, received)


class Saga:
    """One booking of a contract set: sends the saga's requests, waits for the answers it reads."""

    def __init__(self, broker, listener, contracts, *, form, pascal=False):
        self.broker = broker
        self.listener = listener
        self.contracts = contracts
        self.form = form
        self.pascal = pascal
        self.booking_id = uuid.uuid4()

    def publish(self, full_name, payload, activity_id=None):
        """Publish a request of this booking, as the saga does."""
        outgoing = masstransit_message(full_name, payload, form=self.form, pascal=self.pascal,
                                       correlation_id=self.booking_id, activity_id=activity_id)
        return self.broker.send(outgoing, exchange=full_name)

    def answers(self, *full_names, count=1, timeout=15):
        """Wait for `count` answers of these types (any type if none given) for this booking; return them all."""
        deadline = time.monotonic() + timeout
        while True:
            self.listener.drain()
            found = [answer for answer in map(read_answer, self.listener.messages)
                     if (not full_names or answer.type_name in full_names)
                     and str(answer.message.get("bookingId")) == str(self.booking_id)]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            self.broker.connection.sleep(0.02)
