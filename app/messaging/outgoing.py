"""Messages as they leave: raw JSON with MassTransit's transport headers, or MassTransit's envelope.

`MESSAGE_FORMAT=raw` (the default) is what the original services' buses use
(`UseRawJsonSerializer`): the body is the message alone, its ids and types in headers.
`envelope` is what a MassTransit bus with default settings reads: the System.Text.Json
envelope, every property written (null where unset), in MassTransit's order.
"""

import json
from dataclasses import dataclass

import pika

from app.messaging.contracts.base import utc_text
from app.messaging.host import host_info

RAW = "application/json"
ENVELOPE = "application/vnd.masstransit+json"


@dataclass(frozen=True)
class Outgoing:
    """A message ready for `basic_publish`."""

    exchange: str
    body: bytes
    properties: pika.BasicProperties
    routing_key: str = ""


@dataclass(frozen=True)
class Addressing:
    """Where a message comes from and goes to, and the conversation it belongs to."""

    message_id: object
    sent_time: object
    conversation_id: object
    source_address: str
    destination_address: str
    correlation_id: object = None
    initiator_id: object = None


def _text(value):
    return None if value is None else str(value)


def _raw(message_types, message, addressing, headers):
    transport = {
        "MessageId": _text(addressing.message_id),
        "CorrelationId": _text(addressing.correlation_id),
        "ConversationId": _text(addressing.conversation_id),
        "MT-InitiatorId": _text(addressing.initiator_id),
        "MT-MessageType": ";".join(message_types),
        "MT-Source-Address": addressing.source_address,
        "MT-Host-Info": json.dumps({key[:1].upper() + key[1:]: value for key, value in host_info().items()},
                                   separators=(",", ":")),
    }
    return RAW, message, {key: value for key, value in transport.items() if value is not None} | headers


def _envelope(message_types, message, addressing, headers):
    document = {
        "messageId": _text(addressing.message_id),
        "requestId": None,
        "correlationId": _text(addressing.correlation_id),
        "conversationId": _text(addressing.conversation_id),
        "initiatorId": _text(addressing.initiator_id),
        "sourceAddress": addressing.source_address,
        "destinationAddress": addressing.destination_address,
        "responseAddress": None,
        "faultAddress": None,
        "messageType": list(message_types),
        "message": message,
        "expirationTime": None,
        "sentTime": utc_text(addressing.sent_time),
        "headers": headers,
        "host": host_info(),
    }
    return ENVELOPE, document, headers


def build(exchange, message_types, message, addressing, *, message_format, headers=None):
    """Return the message `message` of the types `message_types` (URNs), for `exchange`, in `message_format`.

    `headers` (trace context, correlation) go in the AMQP headers, and in an envelope's
    `headers` too.
    """
    form = _envelope if message_format == "envelope" else _raw
    content_type, document, amqp_headers = form(message_types, message, addressing, dict(headers or {}))
    properties = pika.BasicProperties(
        content_type=content_type,
        delivery_mode=pika.DeliveryMode.Persistent,
        message_id=_text(addressing.message_id),
        correlation_id=_text(addressing.correlation_id),
        headers=amqp_headers,
    )
    return Outgoing(exchange, json.dumps(document, separators=(",", ":")).encode(), properties)
