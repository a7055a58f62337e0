"""Reading deliveries: raw JSON or the MassTransit envelope, ids and correlation from either."""

import hashlib
import json
import uuid
from dataclasses import dataclass

ENVELOPE_CONTENT_TYPE = "application/vnd.masstransit+json"


class PoisonMessage(Exception):
    """A delivery that can never be processed; it goes to the error queue with `reason`."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Delivery:
    """A received message, unwrapped."""

    message_id: uuid.UUID
    conversation_id: str
    payload: object
    message_types: tuple[str, ...] = ()


def _as_uuid(value):
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def _lowered(mapping):
    return {str(key).lower(): value for key, value in (mapping or {}).items()}


def _message_types(envelope, headers):
    """Return the type URNs the sender declared: the envelope's `messageType`, else the `MT-MessageType` header."""
    declared = envelope.get("messagetype") or headers.get("mt-messagetype") or ()
    if isinstance(declared, str):
        declared = declared.split(";")
    if not isinstance(declared, list | tuple):
        declared = [declared]
    return tuple(str(urn) for urn in declared if urn)


def unwrap(queue, properties, body):
    """Decode a delivery's body and find its message id and conversation.

    The id is the envelope's `messageId`, else the AMQP `message_id`, else a `MessageId`
    header; a message without any gets an id derived from its body, so that its
    redeliveries still count as one message. The message types the sender declared are
    kept, so that a message of another type can be refused.

    :raises PoisonMessage: the body is not JSON, or an envelope without a `message`.
    """
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PoisonMessage(f"The body is not JSON: {exc}") from exc
    headers = _lowered(properties.headers)
    envelope = {}
    is_envelope = properties.content_type == ENVELOPE_CONTENT_TYPE or (
        isinstance(document, dict) and "message" in _lowered(document) and "messagetype" in _lowered(document)
    )
    if is_envelope:
        envelope = _lowered(document) if isinstance(document, dict) else {}
        if "message" not in envelope:
            raise PoisonMessage("A MassTransit envelope without a message.")
        document = envelope["message"]
    message_id = (
        _as_uuid(envelope.get("messageid"))
        or _as_uuid(properties.message_id)
        or _as_uuid(headers.get("messageid"))
        or uuid.uuid5(uuid.NAMESPACE_URL, f"{queue}:{hashlib.sha256(body).hexdigest()}")
    )
    conversation = (
        envelope.get("conversationid")
        or headers.get("conversationid")
        or envelope.get("correlationid")
        or properties.correlation_id
        or headers.get("correlationid")
        or str(message_id)
    )
    return Delivery(message_id=message_id, conversation_id=str(conversation)[:128], payload=document,
                    message_types=_message_types(envelope, headers))
