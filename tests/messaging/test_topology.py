"""The exchanges, queues and bindings are laid out as MassTransit lays them out."""

import subprocess
import uuid

from tests.messaging.messages import new_id, raw
from tests.messaging.processes import QUEUES

CONSUMED = {
    "event-published": ["{ns}:EventPublishedEvent"],
    "hold-tickets": ["{ns}:HoldTicketsRequest", "SharedLibrary.Contracts.Messages:HoldTickets"],
    "reserve-tickets": ["{ns}:ReserveTicketsRequest", "SharedLibrary.Contracts.Messages:ReserveTickets"],
    "release-tickets": ["{ns}:ReleaseTicketsRequest", "SharedLibrary.Contracts.Messages:ReleaseTickets"],
    "create-event-ticket": ["TicketService.Contracts.Messages:CreateEventTicket"],
}
PUBLISHED = [
    "{ns}:TicketHeldEvent", "{ns}:TicketHoldFailedEvent", "{ns}:TicketReservedEvent",
    "{ns}:TicketReservationFailedEvent", "{ns}:TicketsReleasedEvent", "{ns}:TicketHoldExpiredEvent",
    "SharedLibrary.Contracts.Events:TicketsReservedEvent",
    "SharedLibrary.Contracts.Events:TicketReservationFailedEvent",
    "SharedLibrary.Contracts.Events:BookingConfirmedEvent", "SharedLibrary.Contracts.Events:BookingFailedEvent",
]


def listed(vhost, what, *columns):
    output = subprocess.run(["rabbitmqctl", "-s", what, "-p", vhost, *columns], check=True, capture_output=True,
                            text=True, timeout=60).stdout
    return {tuple(line.split("\t")) for line in output.splitlines() if line.strip()}


def test_each_queue_is_reached_from_every_contract_sets_exchange_and_has_error_and_skipped_queues(
    services, vhost, namespace
):
    exchanges = listed(vhost, "list_exchanges", "name", "type", "durable")
    queues = listed(vhost, "list_queues", "name", "durable")
    bindings = listed(vhost, "list_bindings", "source_name", "source_kind", "destination_name", "destination_kind")
    for queue in QUEUES:
        for type_exchange in (name.format(ns=namespace) for name in CONSUMED[queue]):
            assert (type_exchange, "fanout", "true") in exchanges
            assert (type_exchange, "exchange", queue, "exchange") in bindings
            fault = f"MassTransit:Fault--{type_exchange}--"
            assert (fault, "fanout", "true") in exchanges
            assert (fault, "exchange", "MassTransit:Fault", "exchange") in bindings
        for name in (queue, f"{queue}_error", f"{queue}_skipped"):
            assert (name, "fanout", "true") in exchanges
            assert (name, "true") in queues
            assert (name, "exchange", name, "queue") in bindings
    for exchange in PUBLISHED:
        assert (exchange.format(ns=namespace), "fanout", "true") in exchanges
    assert ("events.exchange", "topic", "true") in exchanges
    routed = listed(vhost, "list_bindings", "source_name", "destination_name", "routing_key")
    assert ("events.exchange", "create-event-ticket", "event.ticket.create") in routed


def test_a_message_sent_to_the_queues_own_exchange_is_consumed(services, broker, answers, make_tickets, event_id):
    make_tickets(event_id, 1)
    booking = uuid.uuid4()
    message = raw("HoldTicketsRequest", {"bookingId": str(booking), "eventId": event_id, "numberOfTickets": 1},
                  message_id=new_id())
    broker.send(message, exchange="hold-tickets")
    assert [answer.type_name for answer in answers.receive(booking)] == ["TicketHeldEvent"]
