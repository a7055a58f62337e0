"""Reading deliveries: raw JSON or the MassTransit envelope, ids, types and correlation from either."""

import hashlib
import json
import uuid
from dataclasses import dataclass

ENVELOPE_CONTENT_TYPE = "application/vnd.masstransit+json"


@dataclass(frozen=True)
class Delivery:
    """A received message, unwrapped.

    `payload` is the message itself (None when the body cannot be read, and then
    `problem` says why); `message_types` are the type URNs its sender declared.
    """

    message_id: uuid.UUID
    conversation_id: str
    payload: object
    message_types: tuple[str, ...] = ()
    exchange: str = ""
    correlation_id: str | None = None
    request_id: str | None = None
    problem: str | None = None


def as_uuid(value):
    """Return `value` as a UUID, or None when it is not one."""
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def as_guid(text):
    """Return `text` as a GUID: itself when it is one, else a GUID derived from it (MassTransit ids are GUIDs)."""
    return as_uuid(text) or uuid.uuid5(uuid.NAMESPACE_URL, f"correlation:{text}")


def _lowered(mapping):
    return {str(key).lower(): value for key, value in (mapping or {}).items()} if isinstance(mapping, dict) else {}


def _text(value):
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    return None if value in (None, "") else str(value)


def _message_types(envelope, headers):
    """Return the type URNs the sender declared: the envelope's `messageType`, else the `MT-MessageType` header."""
    declared = envelope.get("messagetype") or _text(headers.get("mt-messagetype")) or ()
    if isinstance(declared, str):
        declared = declared.split(";")
    if not isinstance(declared, list | tuple):
        declared = [declared]
    return tuple(str(urn).strip() for urn in declared if urn)


def _read(properties, body):
    """Return `(envelope, payload, problem)`: the envelope's properties (lowercased) if it is one."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return {}, None, f"The body is not JSON: {exc}"
    lowered = _lowered(document)
    declared = "message" in lowered and "messagetype" in lowered
    is_envelope = properties.content_type == ENVELOPE_CONTENT_TYPE or declared
    if not is_envelope:
        return {}, document, None
    if "message" not in lowered:
        return lowered, None, "A MassTransit envelope without a message."
    return lowered, lowered["message"], None


def unwrap(queue, properties, body, exchange=""):
    """Decode a delivery's body and find its message id, types and conversation.

    The id is the envelope's `messageId`, else the AMQP `message_id`, else a `MessageId`
    header; a message without any (Spring AMQP sends none) gets an id derived from its
    body, so that its redeliveries and copies count as one message.
    """
    envelope, payload, problem = _read(properties, body)
    headers = _lowered(properties.headers)
    message_id = (
        as_uuid(envelope.get("messageid"))
        or as_uuid(properties.message_id)
        or as_uuid(_text(headers.get("messageid")))
        or uuid.uuid5(uuid.NAMESPACE_URL, f"{queue}:{hashlib.sha256(body).hexdigest()}")
    )
    correlation = envelope.get("correlationid") or properties.correlation_id or _text(headers.get("correlationid"))
    conversation = envelope.get("conversationid") or _text(headers.get("conversationid")) or correlation
    return Delivery(
        message_id=message_id,
        conversation_id=str(conversation or message_id)[:128],
        payload=payload,
        message_types=_message_types(envelope, headers),
        exchange=exchange,
        correlation_id=_text(correlation),
        request_id=_text(envelope.get("requestid") or headers.get("requestid")),
        problem=problem,
    )
