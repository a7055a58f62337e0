"""What each consumed message does: parse it, apply it once, answer it.

`process_delivery` is the consumers' whole business: it never raises, it returns a
verdict the runtime carries out (ack, return to the queue, or move to the error queue).
Each message's effect and its inbox record commit in one transaction; the service
function runs in a savepoint inside it, so a refusal still records the answer.
"""

import logging
from dataclasses import dataclass

import marshmallow as ma
from opentelemetry.trace import SpanKind
from sqlalchemy.exc import DBAPIError

from app import metrics
from app.context import origin
from app.errors import (
    HoldUnavailable,
    IdempotencyKeyReused,
    InvalidRequest,
    ServiceUnavailable,
    TicketServiceError,
    translate_database_error,
)
from app.messaging import inbox, outbox
from app.messaging.contracts import CONSUMED, TicketHoldFailedEvent, TicketReservationFailedEvent
from app.messaging.wire import PoisonMessage, unwrap
from app.tickets.creation import create_event_tickets
from app.tickets.holds import hold_tickets
from app.tickets.reservation import release_booking_tickets, reserve_tickets
from app.tickets.transaction import transaction
from app.tracing import extract_context, tracer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    """What to do with a delivery: `ack`, `retry` (back to the queue) or `error` (error queue)."""

    action: str
    reason: str = ""
    exception_type: str = ""

    @property
    def result(self):
        """Return the metric label: processed, duplicate, error or retry."""
        if self.action == "ack":
            return "duplicate" if self.reason == "duplicate" else "processed"
        return self.action


def on_event_published(request):
    """Create the published event's tickets, once.

    :raises InvalidRequest: the event was published before with another number of tickets.
    """
    try:
        create_event_tickets(event_id=request["event_id"], number_of_tickets=request["number_of_tickets"])
    except IdempotencyKeyReused as exc:
        raise InvalidRequest(
            f"Event {request['event_id']} was published before with another numberOfTickets"
            f" (this message says {request['number_of_tickets']})."
        ) from exc


def on_hold_requested(request):
    """Hold seats for the booking; answer TicketHeldEvent (by the service) or TicketHoldFailedEvent."""
    ticket_ids = request.get("ticket_ids") or None
    number = request.get("number_of_tickets") or None
    try:
        hold_tickets(event_id=request["event_id"], booking_id=request["booking_id"], number_of_tickets=number,
                     ticket_ids=ticket_ids, hold_seconds=request.get("hold_seconds"))
    except HoldUnavailable as refusal:
        outbox.publish(TicketHoldFailedEvent, booking_id=request["booking_id"], event_id=request["event_id"],
                       reason=refusal.message, requested=refusal.requested, available=refusal.available)


def on_reserve_requested(request):
    """Reserve the booking's tickets; answer TicketReservedEvent or TicketReservationFailedEvent."""
    outcome = reserve_tickets(event_id=request["event_id"], ticket_ids=request["ticket_ids"],
                              booking_id=request["booking_id"])
    if outcome.invalid:
        raise InvalidRequest(outcome.reason)
    if not outcome.done:
        outbox.publish(TicketReservationFailedEvent, booking_id=request["booking_id"],
                       event_id=request["event_id"], reason=outcome.reason)


def on_release_requested(request):
    """Release what the booking owns among the tickets; answer TicketsReleasedEvent."""
    release_booking_tickets(event_id=request["event_id"], booking_id=request["booking_id"],
                            ticket_ids=request["ticket_ids"])


HANDLERS = {
    "event-published": on_event_published,
    "hold-tickets": on_hold_requested,
    "reserve-tickets": on_reserve_requested,
    "release-tickets": on_release_requested,
}


def _apply(queue, delivery, request):
    """Apply the message once; return False if it had been applied before."""
    with origin(source=f"consumer:{queue}", correlation_id=delivery.conversation_id), transaction():
        if not inbox.claim(consumer=queue, message_id=delivery.message_id):
            return False
        HANDLERS[queue](request)
        return True


def _check_type(queue, contract, delivery):
    """Refuse a message whose sender declared types that do not include the queue's contract.

    :raises PoisonMessage: the message is of another type (it would be misread as this one).
    """
    names = {urn.rsplit(":", 1)[-1] for urn in delivery.message_types}
    if names and contract.type_name() not in names:
        declared = ", ".join(delivery.message_types)
        raise PoisonMessage(f"Unknown message type {declared}: {queue} takes {contract.type_name()}.")


def process_delivery(queue, properties, body):
    """Handle one delivery of `queue` inside the current app context; return its verdict.

    The handling continues the trace whose context the message's headers carry.
    """
    with tracer.start_as_current_span(f"{queue} process", context=extract_context(properties.headers),
                                      kind=SpanKind.CONSUMER):
        verdict = _verdict(queue, properties, body)
    metrics.CONSUMED.labels(queue, verdict.result).inc()
    return verdict


def _verdict(queue, properties, body):
    contract = CONSUMED[queue]
    try:
        delivery = unwrap(queue, properties, body)
        _check_type(queue, contract, delivery)
        try:
            request = contract.parse(delivery.payload)
        except ma.ValidationError as exc:
            raise PoisonMessage(f"Invalid {contract.type_name()}: {exc.messages}") from exc
        applied = _apply(queue, delivery, request)
    except PoisonMessage as poison:
        return Verdict("error", poison.reason, "PoisonMessage")
    except InvalidRequest as exc:
        return Verdict("error", exc.message, type(exc).__name__)
    except TicketServiceError as exc:
        log.warning("%s: will retry: %s", queue, exc.message)
        return Verdict("retry", exc.message)
    except DBAPIError as exc:
        translated = translate_database_error(exc) or ServiceUnavailable(str(exc.orig)[:200])
        log.warning("%s: will retry: %s", queue, translated.message)
        return Verdict("retry", translated.message)
    if not applied:
        log.info("%s: message %s was applied before; acknowledged again", queue, delivery.message_id)
        return Verdict("ack", "duplicate")
    return Verdict("ack")
