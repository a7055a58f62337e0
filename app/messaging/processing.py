"""How a consumer processes its deliveries: a batch in one transaction, a verdict for each.

`process_batch` is the consumers' whole business: it never raises, it returns a verdict
per delivery that the runtime carries out after the commit (ack, return to the queue,
move to `_error` or to `_skipped`). The batch's messages are claimed in the inbox in one
statement, so a copy of a message applied before is acknowledged and changes nothing;
each message then runs its handler in a savepoint of its own, and a message that fails
or must be retried rolls back alone and gives its claim back. A message that fails is
answered, once: its `Fault<T>` and, when its `bookingId` can be read, its contract set's
failure event are recorded under a claim of its own (`{queue}:fault`), before it is moved
to `{queue}_error`. When the connection to the database is lost, the whole batch rolls
back and goes back to the queue.
"""

import logging
from dataclasses import dataclass

import marshmallow as ma
from flask import current_app
from opentelemetry.trace import SpanKind
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from app import metrics, outbox
from app.context import origin
from app.errors import InvalidRequest, TicketServiceError
from app.messaging import inbox
from app.messaging.contracts import CONSUMED
from app.messaging.faults import FAULTED, Failure
from app.messaging.handlers import HANDLERS, REFUSALS
from app.messaging.wire import as_uuid, unwrap
from app.tickets.events import Happened
from app.tracing import extract_context, tracer
from app.transaction import transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    """What to do with a delivery: `ack`, `retry` (back to the queue), `error` or `skip` (moved aside).

    `message_type` is the `{namespace}:{Type}` the message was read as.
    """

    action: str
    reason: str = ""
    failure: Failure | None = None
    message_type: str = ""
    database_down: bool = False

    @property
    def result(self):
        """Return the metric label: processed, duplicate, error, skipped or retry."""
        if self.action == "ack":
            return "duplicate" if self.reason == "duplicate" else "processed"
        return {"skip": "skipped"}.get(self.action, self.action)


DUPLICATE = Verdict("ack", "duplicate")


class Unreadable(Exception):
    """A message that can never be processed as it is: not JSON, or fields missing or wrong."""


class DatabaseDown(Exception):
    """The database failed under a message: the batch's transaction cannot go on."""


def choose_contract(queue, delivery, namespace):
    """Return the contract to read the delivery as, or None when it is of a type the queue does not consume.

    The declared type decides (by its full name, else by its type name alone); a message
    that declares none is read as the type whose exchange it came through, else as the
    queue's first contract.
    """
    contracts = CONSUMED[queue]
    if delivery.message_types:
        for urn in delivery.message_types:
            for contract in contracts:
                if urn == contract.urn(namespace):
                    return contract
        names = {urn.rsplit(":", 1)[-1] for urn in delivery.message_types}
        return next((contract for contract in contracts if contract.type_name() in names), None)
    by_exchange = (contract for contract in contracts if contract.full_name(namespace) == delivery.exchange)
    return next(by_exchange, contracts[0])


def _read(contract, delivery):
    """Return the message's fields.

    :raises Unreadable: the body is not JSON, or a field is missing or wrong.
    """
    if delivery.problem:
        raise Unreadable(delivery.problem)
    try:
        return contract.parse(delivery.payload)
    except ma.ValidationError as exc:
        raise Unreadable(f"Invalid {contract.type_name()}: {exc.messages}") from exc


def _field(payload, name):
    """Return a property of the message's body by its name in any case, when the body is an object."""
    if not isinstance(payload, dict):
        return None
    return next((value for key, value in payload.items() if str(key).lower() == name.lower()), None)


def _message_context(queue, contract, delivery):
    """Describe the message being handled for the outbox: what answering it takes."""
    customer = _field(delivery.payload, "customerId")
    return {
        "queue": queue,
        "contractSet": contract.contract_set,
        "messageId": str(delivery.message_id),
        "conversationId": delivery.conversation_id,
        "initiatorId": delivery.correlation_id or delivery.request_id,
        "customerId": None if customer in (None, "") else str(customer),
    }


def _handling(queue, contract, delivery):
    return origin(source=f"consumer:{queue}", correlation_id=delivery.conversation_id,
                  message=_message_context(queue, contract, delivery))


def _apply(queue, contract, delivery):
    """Run the message's handler in its context, in a savepoint of its own."""
    with _handling(queue, contract, delivery), transaction():
        HANDLERS[queue](_read(contract, delivery))


def _int_field(payload, name):
    """Return an integer property of the body (by its name in any case), or None."""
    value = _field(payload, name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _fault_type(contract, delivery, namespace):
    """Return the `{namespace}:{Type}` the sender knows the failed message as: its own declared name."""
    for urn in delivery.message_types:
        if urn.rsplit(":", 1)[-1] == contract.type_name():
            return urn.removeprefix("urn:message:")
    return contract.full_name(namespace)


def _record_fault(queue, contract, delivery, failure):
    """Record, once, the answers to a message that failed: `Fault<T>`, and the set's failure event.

    Faults are claimed in the inbox apart from applied messages (`{queue}:fault`): a
    faulted message is answered once, and the same message sent again after its cause
    was mended is applied.
    """
    namespace = current_app.config["MESSAGE_NAMESPACE"]
    with _handling(queue, contract, delivery), transaction():
        if not inbox.claim(consumer=f"{queue}:fault", message_id=delivery.message_id):
            return
        outbox.record(FAULTED, queue=queue, message_type=_fault_type(contract, delivery, namespace),
                      message_types=list(delivery.message_types) or [contract.urn(namespace)],
                      message=delivery.payload if isinstance(delivery.payload, dict) else None,
                      exception_type=failure.exception_type, reason=failure.message)
        booking_id = as_uuid(_field(delivery.payload, "bookingId"))
        if booking_id is None or queue not in REFUSALS:
            return
        facts = {"booking_id": booking_id, "event_id": _int_field(delivery.payload, "eventId") or 0,
                 "reason": failure.message}
        if REFUSALS[queue] is Happened.HOLD_REFUSED:
            ids = _field(delivery.payload, "ticketIds")
            requested = _int_field(delivery.payload, "numberOfTickets") or (len(ids) if isinstance(ids, list) else 0)
            facts |= {"requested": requested, "available": 0}
        outbox.record(REFUSALS[queue], **facts)


def process_batch(queue, deliveries):
    """Handle `(exchange, properties, body)` deliveries of `queue` in one transaction; return their verdicts.

    Runs inside the current app context. Each delivery continues the trace whose context
    its headers carry (`traceparent`, or MassTransit's `MT-Activity-Id`).
    """
    try:
        with transaction():
            verdicts = _process(queue, deliveries)
    except (DatabaseDown, TicketServiceError, SQLAlchemyError) as exc:
        reason = getattr(exc, "message", None) or str(exc)[:200]
        log.warning("%s: batch of %d rolled back, will retry: %s", queue, len(deliveries), reason)
        verdicts = [Verdict("retry", reason)] * len(deliveries)
    for verdict in verdicts:
        metrics.CONSUMED.labels(queue, verdict.result).inc()
    return verdicts


def _process(queue, deliveries):
    """Claim the batch's messages, handle each, give back the claims of those not applied.

    :raises DatabaseDown: the database failed under a message.
    """
    namespace = current_app.config["MESSAGE_NAMESPACE"]
    unwrapped = [unwrap(queue, properties, body, exchange) for exchange, properties, body in deliveries]
    contracts = [choose_contract(queue, delivery, namespace) for delivery in unwrapped]
    claimed = inbox.claim_many(consumer=queue, message_ids=[
        delivery.message_id for delivery, contract in zip(unwrapped, contracts, strict=True) if contract])
    verdicts, not_applied = [], []
    for delivery, contract, (_, properties, _) in zip(unwrapped, contracts, deliveries, strict=True):
        if contract is None:
            verdict = _skipped(queue, delivery)
        elif delivery.message_id not in claimed:
            log.info("%s: message %s was applied before; acknowledged again", queue, delivery.message_id)
            verdict = DUPLICATE
        else:
            claimed.discard(delivery.message_id)  # a second copy in the batch is a duplicate
            with tracer.start_as_current_span(f"{queue} process", kind=SpanKind.CONSUMER,
                                              context=extract_context(properties.headers)):
                verdict = _verdict(queue, contract, delivery)
            if verdict.database_down:
                raise DatabaseDown(verdict.reason)
            if verdict.action != "ack":
                not_applied.append(delivery.message_id)
        verdicts.append(verdict)
    if not_applied:
        inbox.release(consumer=queue, message_ids=not_applied)
    return verdicts


def _skipped(queue, delivery):
    declared = ", ".join(delivery.message_types)
    log.warning("%s: message %s of type %s skipped", queue, delivery.message_id, declared)
    return Verdict("skip", f"{queue} does not consume {declared}.")


def _verdict(queue, contract, delivery):
    """Apply a claimed message, or answer its failure; return the verdict."""
    try:
        _apply(queue, contract, delivery)
    except (Unreadable, InvalidRequest) as exc:
        return _fault_or_retry(queue, contract, delivery, exc)
    except (TicketServiceError, SQLAlchemyError) as exc:
        return _retry(queue, exc)
    except Exception as exc:  # noqa: BLE001 - an unforeseen failure faults the message, not the consumer
        log.exception("%s: unexpected failure", queue)
        return _fault_or_retry(queue, contract, delivery, exc)
    return Verdict("ack")


def _fault_or_retry(queue, contract, delivery, exc):
    """Answer a message that failed (once) and send it to the error queue; retry if the answer cannot be recorded."""
    try:
        return _fault(queue, contract, delivery, exc)
    except (TicketServiceError, SQLAlchemyError) as failure:
        return _retry(queue, failure)


def _retry(queue, exc):
    """Return the verdict of a failure worth retrying: the message alone (busy, deadlock, timeout) or its batch.

    The batch goes back whole when the connection to the database is lost, since its
    transaction cannot go on; an error inside a message's savepoint leaves it usable.
    """
    reason = getattr(exc, "message", None) or str(getattr(exc, "orig", None) or exc)[:200]
    log.warning("%s: will retry: %s", queue, reason)
    return Verdict("retry", reason, database_down=_connection_lost(exc))


def _connection_lost(exc):
    """Tell whether a database failure (or the domain error made of one) lost the connection."""
    original = exc if isinstance(exc, SQLAlchemyError) else exc.__cause__
    if isinstance(original, DBAPIError):
        return original.connection_invalidated or getattr(original.orig, "pgcode", None) is None
    return isinstance(original, SQLAlchemyError)


def _fault(queue, contract, delivery, exc):
    """Answer a message that failed (once) and send it to the error queue.

    :raises TicketServiceError, SQLAlchemyError: the answers could not be recorded (the database failed): retry.
    """
    failure = Failure.of(exc)
    _record_fault(queue, contract, delivery, failure)
    return Verdict("error", failure.message, failure, contract.full_name(current_app.config["MESSAGE_NAMESPACE"]))
