"""From outbox rows to wire messages: each recorded event in its contract sets and format, each fault as `Fault<T>`.

Message ids are NewIds made from the row (its time, its id, the message's place in it),
so a row published again after a crash goes out with the same ids, and a .NET peer
reads from each id the time the event happened.
"""

from app.messaging import translation
from app.messaging.faults import FAULTED, Failure, fault_document, fault_exchange, fault_types
from app.messaging.host import address
from app.messaging.newid import new_id
from app.messaging.outgoing import Addressing, build
from app.messaging.wire import as_guid

SERVICE_ENDPOINT = "ticket-service"


def _message_id(row, index):
    return new_id(row.created_at, worker=row.id >> 16, process=index, sequence=row.id)


def _addressing(row, index, exchange, config, correlation_id):
    """Return where message `index` of the row goes, as part of the conversation that caused it."""
    context = row.headers or {}
    message = context.get("message") or {}
    message_id = _message_id(row, index)
    conversation = message.get("conversationId") or context.get("correlationId")
    url = config["RABBITMQ_URL"]
    return Addressing(
        message_id=message_id,
        sent_time=row.created_at,
        conversation_id=as_guid(conversation) if conversation else _message_id(row, 0),
        source_address=address(url, message.get("queue") or SERVICE_ENDPOINT),
        destination_address=address(url, exchange),
        correlation_id=correlation_id,
        initiator_id=message.get("initiatorId") and as_guid(message["initiatorId"]),
    )


def _headers(row, trace_headers):
    correlation = (row.headers or {}).get("correlationId")
    return dict(trace_headers) | ({"X-Correlation-ID": correlation} if correlation else {})


def _fault(row, config, trace_headers):
    facts = row.body
    exchange = fault_exchange(facts["message_type"])
    document = fault_document(
        fault_id=_message_id(row, 1), faulted_message_id=(row.headers.get("message") or {}).get("messageId"),
        timestamp=row.created_at, failure=Failure(facts["exception_type"], facts["reason"]),
        message_types=facts["message_types"], message=facts["message"],
    )
    addressing = _addressing(row, 0, exchange, config, None)
    return [build(exchange, fault_types(facts["message_type"]), document, addressing,
                  message_format=config["MESSAGE_FORMAT"], headers=_headers(row, trace_headers))]


def wire_messages(row, config, trace_headers):
    """Return the `Outgoing` messages of an outbox row; `trace_headers` continue the trace of its publishing."""
    if row.message_type == FAULTED:
        return _fault(row, config, trace_headers)
    namespace = config["MESSAGE_NAMESPACE"]
    outgoing = []
    for index, (contract, body) in enumerate(
        translation.messages(row.message_type, row.body, row.headers or {}, row.created_at, config)
    ):
        exchange = contract.full_name(namespace)
        addressing = _addressing(row, index, exchange, config, body.get("bookingId"))
        outgoing.append(build(exchange, [contract.urn(namespace)], body, addressing,
                              message_format=config["MESSAGE_FORMAT"], headers=_headers(row, trace_headers)))
    return outgoing
