"""Messages as the Booking and Events services send them: raw JSON or MassTransit's envelope."""

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

RAW = "application/json"
ENVELOPE = "application/vnd.masstransit+json"

# A seated event's layout (SPEC §8), as the Events Service may send it: two rows of ten seats.
LAYOUT = {"currency": "EUR", "maxTicketsPerCustomer": 3,
          "categories": {"A": {"price": "120.00"}, "B": {"price": "80.00"}},
          "sections": [{"name": "Stalls", "rows": [{"name": "A", "seats": 10, "category": "A"},
                                                   {"name": "B", "seats": 10, "category": "B"}]}]}
LAYOUT_SEATS = 20


@dataclass(frozen=True)
class Outgoing:
    """A message ready to publish; `message_id` is its id in whichever place its form keeps it."""

    type_name: str
    body: bytes
    content_type: str
    message_id: str | None
    amqp_message_id: str | None = None
    headers: dict = field(default_factory=dict)


def camel(document):
    return dict(document)


def pascal(document):
    """Return the document with PascalCase property names, as a .NET peer may write them."""
    return {key[:1].upper() + key[1:]: value for key, value in document.items()}


def raw(type_name, payload, *, message_id=None, conversation_id=None, cased=camel):
    """A raw JSON message: the id as AMQP message_id, the conversation as a header."""
    message_id = message_id and str(message_id)
    headers = {"ConversationId": str(conversation_id)} if conversation_id else {}
    return Outgoing(type_name, json.dumps(cased(payload)).encode(), RAW, message_id, message_id, headers)


def envelope(type_name, payload, *, namespace, message_id=None, conversation_id=None, cased=camel):
    """A MassTransit envelope: the payload under `message`, id, conversation and type in the envelope only."""
    message_id = message_id and str(message_id)
    document = {
        "messageId": message_id,
        "conversationId": str(conversation_id) if conversation_id else None,
        "sourceAddress": "rabbitmq://localhost/booking-service",
        "destinationAddress": f"rabbitmq://localhost/{namespace}:{type_name}",
        "messageType": [f"urn:message:{namespace}:{type_name}"],
        "message": cased(payload),
        "sentTime": datetime.now(UTC).isoformat(),
        "headers": {},
    }
    return Outgoing(type_name, json.dumps(cased(document)).encode(), ENVELOPE, message_id)


def new_id():
    return str(uuid.uuid4())
