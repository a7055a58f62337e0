"""One trace and one correlation id from the HTTP request, through SQL, into the published message."""

import contextlib
import io
import json
import logging
import uuid

import pika
import pytest
from opentelemetry.trace import SpanKind
from sqlalchemy import text

from app.extensions import db
from app.logs import json_handler
from app.messaging.processing import process_batch
from app.messaging.relay import publish_pending
from app.messaging.wire import as_guid

RABBITMQ = "amqp://guest:guest@127.0.0.1:5672/%2F"


@pytest.fixture
def namespaced_app(make_app):
    """An app publishing to exchanges of its own, so nothing else reads our messages."""
    return make_app(MESSAGE_NAMESPACE=f"Test{uuid.uuid4().hex}")


@pytest.fixture
def broker(namespaced_app):
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ))
    channel = connection.channel()
    yield channel
    namespace = namespaced_app.config["MESSAGE_NAMESPACE"]
    for exchange in ("TicketHeldEvent", "TicketHoldFailedEvent", "TicketReservedEvent",
                     "TicketReservationFailedEvent", "TicketsReleasedEvent", "TicketHoldExpiredEvent"):
        channel.exchange_delete(f"{namespace}:{exchange}")
    connection.close()


def outbox_headers(app):
    with app.app_context():
        return [row.headers for row in db.session.execute(text("SELECT headers FROM outbox_messages ORDER BY id"))]


def trace_id_of(traceparent):
    return traceparent.split("-")[1]


def hold_by_http(app, event_id, correlation_id):
    client = app.test_client()
    client.post("/api/Ticket/bulk", json={"eventId": event_id, "quantity": 2})
    body = {"eventId": event_id, "bookingId": str(uuid.uuid4()), "numberOfTickets": 1}
    response = client.post("/api/Ticket/hold", json=body, headers={"X-Correlation-ID": correlation_id})
    assert response.status_code == 200
    assert response.headers["X-Correlation-ID"] == correlation_id
    return body["bookingId"]


def test_one_trace_runs_from_the_request_through_sql_to_the_published_message(
    namespaced_app, broker, spans, event_id
):
    app = namespaced_app
    namespace = app.config["MESSAGE_NAMESPACE"]
    booking = hold_by_http(app, event_id, "corr-trace-1")

    server = [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER and "hold" in s.name]
    assert len(server) == 1
    trace_id = format(server[0].context.trace_id, "032x")
    sql = [s for s in spans.get_finished_spans() if s.attributes.get("db.system") == "postgresql"]
    assert sql and all(format(s.context.trace_id, "032x") == trace_id for s in sql
                       if s.start_time >= server[0].start_time and s.end_time <= server[0].end_time)
    assert any(format(s.context.trace_id, "032x") == trace_id for s in sql)

    (headers,) = outbox_headers(app)
    assert trace_id_of(headers["traceparent"]) == trace_id
    assert headers["correlationId"] == "corr-trace-1"

    broker.exchange_declare(f"{namespace}:TicketHeldEvent", exchange_type="fanout", durable=True)
    queue = broker.queue_declare("", exclusive=True).method.queue
    broker.queue_bind(queue, f"{namespace}:TicketHeldEvent")
    broker.tx_select()
    with app.app_context():
        assert publish_pending(broker, app.config, 10) == 1
    _, properties, body = broker.basic_get(queue, auto_ack=True)
    assert trace_id_of(properties.headers["traceparent"]) == trace_id
    assert trace_id_of(properties.headers["MT-Activity-Id"]) == trace_id
    assert properties.headers["X-Correlation-ID"] == "corr-trace-1"
    assert properties.headers["ConversationId"] == str(as_guid("corr-trace-1"))
    assert properties.headers["CorrelationId"] == booking
    assert properties.headers["MT-MessageType"] == f"urn:message:{namespace}:TicketHeldEvent"
    assert json.loads(body)["bookingId"] == booking


def test_a_consumed_message_continues_its_sender_s_trace(namespaced_app, spans, event_id, make_tickets):
    app = namespaced_app
    make_tickets(event_id, 1)
    sender_trace = uuid.uuid4().hex
    properties = pika.BasicProperties(
        content_type="application/json",
        message_id=str(uuid.uuid4()),
        headers={"traceparent": f"00-{sender_trace}-{uuid.uuid4().hex[:16]}-01", "ConversationId": "conv-7"},
    )
    body = json.dumps({"BookingId": str(uuid.uuid4()), "EventId": event_id, "NumberOfTickets": 1}).encode()
    with app.app_context():
        assert process_batch("hold-tickets", [("", properties, body)])[0].action == "ack"
    consumer = [s for s in spans.get_finished_spans() if s.kind == SpanKind.CONSUMER]
    assert [format(s.context.trace_id, "032x") for s in consumer] == [sender_trace]
    (headers,) = outbox_headers(app)
    assert trace_id_of(headers["traceparent"]) == sender_trace
    assert headers["correlationId"] == headers["message"]["conversationId"] == "conv-7"


def test_a_consumed_message_continues_a_masstransit_activity(namespaced_app, spans, event_id, make_tickets):
    app = namespaced_app
    make_tickets(event_id, 1)
    sender_trace = uuid.uuid4().hex
    properties = pika.BasicProperties(
        content_type="application/json", message_id=str(uuid.uuid4()),
        headers={"MT-Activity-Id": f"00-{sender_trace}-{uuid.uuid4().hex[:16]}-01"},
    )
    body = json.dumps({"bookingId": str(uuid.uuid4()), "eventId": event_id, "numberOfTickets": 1}).encode()
    with app.app_context():
        assert process_batch("hold-tickets", [("", properties, body)])[0].action == "ack"
    consumer = [s for s in spans.get_finished_spans() if s.kind == SpanKind.CONSUMER]
    assert [format(s.context.trace_id, "032x") for s in consumer] == [sender_trace]


@contextlib.contextmanager
def json_lines_of(logger_name):
    """Collect the JSON log lines of one logger at INFO inside the block; yield the list they go to."""
    stream, lines = io.StringIO(), []
    handler = json_handler()
    handler.setStream(stream)
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    level, logger.level = logger.level, logging.INFO
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        lines += [json.loads(line) for line in stream.getvalue().splitlines()]


def test_log_lines_are_json_with_the_correlation_and_trace_ids(namespaced_app, event_id):
    with json_lines_of("app.tickets.moves") as lines:
        hold_by_http(namespaced_app, event_id, "corr-log-1")
    moved = [line for line in lines if "-> Held" in line["message"]]
    assert len(moved) == 1, lines
    assert moved[0]["correlation_id"] == "corr-log-1"
    assert len(moved[0]["trace_id"]) == 32
    assert {"time", "level", "logger", "message"} <= set(moved[0])


def test_without_recorded_spans_a_request_still_carries_its_callers_trace(make_app, monkeypatch, event_id):
    monkeypatch.setattr("app.tracing.spans_recorded", lambda: False)
    app = make_app()
    client = app.test_client()
    client.post("/api/Ticket/bulk", json={"eventId": event_id, "quantity": 2})
    caller = uuid.uuid4().hex
    body = {"eventId": event_id, "bookingId": str(uuid.uuid4()), "numberOfTickets": 1}
    with json_lines_of("app.tickets.moves") as lines:
        assert client.post("/api/Ticket/hold", json=body,
                           headers={"traceparent": f"00-{caller}-{uuid.uuid4().hex[:16]}-01"}).status_code == 200
        assert client.post("/api/Ticket/hold", json=body | {"bookingId": str(uuid.uuid4())}).status_code == 200
    moved = [line for line in lines if "-> Held" in line["message"]]
    assert [line["trace_id"] for line in moved] == [caller, None], "the second request took on the first's trace"
    with app.app_context():
        rows = db.session.execute(text("SELECT headers FROM outbox_messages WHERE body->>'booking_id' = :b"),
                                  {"b": body["bookingId"]}).scalars().all()
        db.session.remove()
    assert trace_id_of(rows[0]["traceparent"]) == caller
