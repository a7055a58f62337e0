"""Reading deliveries: raw JSON or MassTransit's envelope, the message id and conversation of each."""

import json
import uuid

import pika
import pytest

from app.messaging.wire import unwrap

RAW = "application/json"
ENVELOPE = "application/vnd.masstransit+json"
PAYLOAD = {"eventId": 1, "numberOfTickets": 10}


def properties(content_type=RAW, message_id=None, correlation_id=None, **headers):
    return pika.BasicProperties(content_type=content_type, message_id=message_id,
                                correlation_id=correlation_id, headers=headers or None)


def body(document):
    return json.dumps(document).encode()


def test_a_raw_message_is_its_own_payload_with_the_amqp_message_id():
    message_id = uuid.uuid4()
    delivery = unwrap("event-published", properties(message_id=str(message_id)), body(PAYLOAD))
    assert delivery.payload == PAYLOAD
    assert delivery.message_id == message_id
    assert delivery.conversation_id == str(message_id)


@pytest.mark.parametrize("content_type", [ENVELOPE, RAW, None])
@pytest.mark.parametrize("keys", [str, lambda k: k[0].upper() + k[1:]], ids=["camelCase", "PascalCase"])
def test_an_envelope_gives_its_message_and_ids(content_type, keys):
    message_id, conversation = uuid.uuid4(), uuid.uuid4()
    document = {"messageId": str(message_id), "conversationId": str(conversation),
                "messageType": ["urn:message:Ticketer.Contracts:EventPublishedEvent"], "message": PAYLOAD}
    envelope = {keys(key): value for key, value in document.items()}
    delivery = unwrap("event-published", properties(content_type, message_id=str(uuid.uuid4())), body(envelope))
    assert delivery.payload == PAYLOAD
    assert delivery.message_id == message_id
    assert delivery.conversation_id == str(conversation)


def test_a_raw_body_with_a_message_property_but_no_message_type_stays_raw():
    document = {"message": "hello", "eventId": 1}
    assert unwrap("event-published", properties(), body(document)).payload == document


def test_the_message_id_header_serves_when_there_is_no_amqp_message_id():
    message_id = uuid.uuid4()
    delivery = unwrap("hold-tickets", properties(message_id="not-a-uuid", MessageId=str(message_id)), body(PAYLOAD))
    assert delivery.message_id == message_id


def test_a_message_without_any_id_gets_one_derived_from_queue_and_body():
    first = unwrap("event-published", properties(), body(PAYLOAD)).message_id
    assert unwrap("event-published", properties(), body(PAYLOAD)).message_id == first
    assert unwrap("hold-tickets", properties(), body(PAYLOAD)).message_id != first
    assert unwrap("event-published", properties(), body(PAYLOAD | {"numberOfTickets": 11})).message_id != first
    assert first.version == 5


@pytest.mark.parametrize(
    ("props", "envelope_fields", "expected"),
    [
        ({"ConversationId": "from-header", "CorrelationId": "x"}, {"correlationId": "y"}, "from-header"),
        ({"CorrelationId": "x"}, {"correlationId": "from-envelope"}, "from-envelope"),
        ({"correlation_id": "from-property", "CorrelationId": "x"}, {}, "from-property"),
        ({"CorrelationId": "from-correlation-header"}, {}, "from-correlation-header"),
    ],
)
def test_the_conversation_comes_from_the_best_source_there_is(props, envelope_fields, expected):
    correlation_id = props.pop("correlation_id", None)
    document = {"messageType": ["urn:message:X:Y"], "message": PAYLOAD} | envelope_fields
    delivery = unwrap("hold-tickets", properties(ENVELOPE, correlation_id=correlation_id, **props), body(document))
    assert delivery.conversation_id == expected


def test_the_envelopes_conversation_comes_first_and_is_cut_to_128_characters():
    document = {"conversationId": "c" * 300, "message": PAYLOAD}
    delivery = unwrap("hold-tickets", properties(ENVELOPE, ConversationId="header"), body(document))
    assert delivery.conversation_id == "c" * 128


@pytest.mark.parametrize(
    ("content_type", "raw_body", "reason"),
    [
        (RAW, b'{"eventId": 1,', "not JSON"),
        (RAW, b"\xff\xfe\x00", "not JSON"),
        (ENVELOPE, b"", "not JSON"),
        (ENVELOPE, body({"messageType": ["urn:message:X:Y"], "sentTime": None}), "without a message"),
        (ENVELOPE, body([PAYLOAD]), "without a message"),
    ],
)
def test_an_unreadable_delivery_says_why_and_still_has_its_id(content_type, raw_body, reason):
    message_id = uuid.uuid4()
    delivery = unwrap("event-published", properties(content_type, message_id=str(message_id)), raw_body)
    assert reason in delivery.problem
    assert delivery.payload is None
    assert delivery.message_id == message_id


@pytest.mark.parametrize(
    ("content_type", "document", "headers", "expected"),
    [
        (ENVELOPE, {"messageType": ["urn:message:A:One", "urn:message:A:IOne"], "message": PAYLOAD}, {},
         ("urn:message:A:One", "urn:message:A:IOne")),
        (ENVELOPE, {"MessageType": "urn:message:A:One", "Message": PAYLOAD}, {}, ("urn:message:A:One",)),
        (RAW, PAYLOAD, {"MT-MessageType": "urn:message:A:One;urn:message:A:IOne"},
         ("urn:message:A:One", "urn:message:A:IOne")),
        (RAW, PAYLOAD, {}, ()),
    ],
)
def test_the_message_types_the_sender_declared_are_kept(content_type, document, headers, expected):
    assert unwrap("hold-tickets", properties(content_type, **headers), body(document)).message_types == expected
