"""The exchanges, queues and bindings are laid out as MassTransit lays them out."""

import subprocess
import uuid

from tests.messaging.broker import ANSWER_TYPES
from tests.messaging.messages import new_id, raw
from tests.messaging.processes import QUEUES

CONSUMED = {
    "event-published": "EventPublishedEvent",
    "hold-tickets": "HoldTicketsRequest",
    "reserve-tickets": "ReserveTicketsRequest",
    "release-tickets": "ReleaseTicketsRequest",
}


def listed(vhost, what, *columns):
    output = subprocess.run(["rabbitmqctl", "-s", what, "-p", vhost, *columns], check=True, capture_output=True,
                            text=True, timeout=60).stdout
    return {tuple(line.split("\t")) for line in output.splitlines() if line.strip()}


def test_each_queue_is_reached_from_its_message_types_exchange_and_has_an_error_queue(services, vhost, namespace):
    exchanges = listed(vhost, "list_exchanges", "name", "type", "durable")
    queues = listed(vhost, "list_queues", "name", "durable")
    bindings = listed(vhost, "list_bindings", "source_name", "source_kind", "destination_name", "destination_kind")
    for queue in QUEUES:
        type_exchange = f"{namespace}:{CONSUMED[queue]}"
        for exchange in (type_exchange, queue, f"{queue}_error"):
            assert (exchange, "fanout", "true") in exchanges
        assert {(queue, "true"), (f"{queue}_error", "true")} <= queues
        assert (type_exchange, "exchange", queue, "exchange") in bindings
        assert (queue, "exchange", queue, "queue") in bindings
        assert (f"{queue}_error", "exchange", f"{queue}_error", "queue") in bindings
    for type_name in ANSWER_TYPES:
        assert (f"{namespace}:{type_name}", "fanout", "true") in exchanges


def test_a_message_sent_to_the_queues_own_exchange_is_consumed(services, broker, answers, make_tickets, event_id):
    make_tickets(event_id, 1)
    booking = uuid.uuid4()
    message = raw("HoldTicketsRequest", {"bookingId": str(booking), "eventId": event_id, "numberOfTickets": 1},
                  message_id=new_id())
    broker.send(message, exchange="hold-tickets")
    assert [answer.type_name for answer in answers.receive(booking)] == ["TicketHeldEvent"]
