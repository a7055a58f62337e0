"""Quorum queues on request (`RABBITMQ_QUEUE_TYPE=quorum`): declared as such, and the saga path works on them."""

import os
import time
import uuid

import pytest

from tests.messaging.broker import Broker, rabbitmqctl, temporary_vhost
from tests.messaging.messages import new_id, raw

QUEUE = "hold-tickets"


@pytest.fixture
def quorum_vhost():
    """A vhost of this test alone: a queue keeps the type it was made with."""
    name = f"tickets-quorum-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    with temporary_vhost(name):
        yield name


def test_queues_are_quorum_queues_on_request_and_holds_are_answered(
    fleet, quorum_vhost, namespace, make_tickets, event_id
):
    url = f"amqp://guest:guest@127.0.0.1:5672/{quorum_vhost}"
    fleet.stop("relay")
    started = [fleet.launch(QUEUE, RABBITMQ_URL=url, RABBITMQ_QUEUE_TYPE="quorum"),
               fleet.launch("relay", RABBITMQ_URL=url)]
    broker = Broker(url, namespace)
    try:
        deadline = time.monotonic() + 30
        while (broker.queue_counts(QUEUE) or (0, 0))[1] < 1:
            assert time.monotonic() < deadline and all(p.alive() for p in started), started[0].log()
            time.sleep(0.1)
        types = dict(line.split("\t") for line in rabbitmqctl("list_queues", "-p", quorum_vhost, "name", "type")
                     .splitlines())
        arguments = dict(line.split("\t") for line in rabbitmqctl("list_queues", "-p", quorum_vhost, "name",
                                                                  "arguments").splitlines())
        assert f"{QUEUE}_error" in arguments[QUEUE], "past its delivery limit a message goes to the error queue"
        assert {name: types[name] for name in (QUEUE, f"{QUEUE}_error", f"{QUEUE}_skipped")} == dict.fromkeys(
            (QUEUE, f"{QUEUE}_error", f"{QUEUE}_skipped"), "quorum")

        make_tickets(event_id, 2)
        listener = broker.listen("TicketHeldEvent")
        booking = uuid.uuid4()
        broker.send(raw("HoldTicketsRequest", {"bookingId": str(booking), "eventId": event_id, "numberOfTickets": 2},
                        message_id=new_id()))
        (answer,) = listener.receive(booking, timeout=20)
        assert len(answer.body["ticketIds"]) == 2
    finally:
        broker.close()
        for process in started:
            process.terminate()
