"""A RabbitMQ node SIGKILLed mid-stampede of holds: the quorum queues lose nothing, the processes move on.

Three clustered nodes. The hold-tickets consumer and the relay are given every node, and
both land on the first (the others refuse connections while they start), where the
consumer's quorum queue gets its leader. Peers given every node publish the holds with
confirms, for fewer seats than holds. A third of the way through, the first node is
SIGKILLed: its unacked deliveries, its queue leader and the relay's open transaction go
with it. The processes carry on on the other nodes, and every booking is answered once.
"""

import contextlib
import json
import os
import threading
import time
import uuid
from collections import Counter, deque

import pika
import pytest
import requests
from pika.exceptions import AMQPError

from app.broker_probe import CONNECTION_NAME, BrokerProbe
from app.messaging.nodes import node_parameters
from tests.ha.rabbitmq_cluster import free_ports
from tests.messaging.broker import Broker, consumer_count
from tests.messaging.database import Database, eventually
from tests.messaging.messages import new_id, raw
from tests.messaging.processes import Fleet

pytestmark = pytest.mark.faults

QUEUE = "hold-tickets"
REQUESTS = 1500
TICKETS = 1000
PUBLISHERS = 4
PUBLISH_SECONDS = 8
ANSWER_TYPES = ("TicketHeldEvent", "TicketHoldFailedEvent")
SERVICE_CONNECTIONS = (f"ticket-service {QUEUE}", "ticket-service relay", CONNECTION_NAME)


class Publisher(threading.Thread):
    """A peer given every node: publishes with confirms, and again on another node what its own did not confirm.

    It connects when made, and publishes its messages evenly over `seconds` once started.
    """

    def __init__(self, url, exchange, messages, seconds):
        super().__init__(daemon=True)
        self.url = url
        self.exchange = exchange
        self.pending = deque(messages)
        self.interval = seconds / len(messages)
        self.published = 0
        self.retried = 0
        self.stopped = threading.Event()
        self.channel = self._channel()

    def run(self):
        channel, self.channel = self.channel, None
        while self.pending and not self.stopped.is_set():
            try:
                if channel is None:
                    channel = self._channel()
                message = self.pending[0]
                properties = pika.BasicProperties(content_type=message.content_type, delivery_mode=2,
                                                  message_id=message.amqp_message_id, headers=message.headers)
                channel.basic_publish(self.exchange, "", message.body, properties, mandatory=True)
                self.pending.popleft()
                self.published += 1
                time.sleep(self.interval)
            except (AMQPError, OSError):
                self.retried += 1  # unconfirmed: the same message again, perhaps a copy the inbox will drop
                self._close(channel)
                channel = None
                time.sleep(0.2)
        self._close(channel)

    def _channel(self):
        connection = pika.BlockingConnection(node_parameters(self.url, connection_attempts=1, socket_timeout=5))
        channel = connection.channel()
        channel.confirm_delivery()
        return channel

    @staticmethod
    def _close(channel):
        if channel is not None and channel.connection.is_open:
            with contextlib.suppress(AMQPError, OSError):
                channel.connection.close()


def start_on(node, cluster, fleet, metrics_port, messages):
    """Start the consumer, the relay, a health probe and the publishers, given every node, on `node`."""
    url = cluster.settings["RABBITMQ_URL"]
    exchange = f"{fleet.env['MESSAGE_NAMESPACE']}:HoldTicketsRequest"
    with cluster.only(node):
        consumer = fleet.start(QUEUE, CONSUMER_BATCH=50, CONSUMER_LINGER_MS=20, METRICS_PORT=metrics_port)
        relay = fleet.start("relay")
        probe = BrokerProbe(url, timeout=2)
        probe.read([QUEUE])
        publishers = [Publisher(url, exchange, messages[number::PUBLISHERS], PUBLISH_SECONDS)
                      for number in range(PUBLISHERS)]
    return consumer, relay, probe, publishers


def ready_count(cluster, database):
    """How many processes of a role serve: relays listening on the outbox, consumers counted by their queue."""
    url = cluster.settings["RABBITMQ_URL"]

    def count(role):
        if role == "relay":
            return database.listening_relays()
        return consumer_count(node_parameters(url), role)

    return count


def queue_leader(cluster, via, queue):
    listed = json.loads(cluster.ctl(via, "list_queues", "name", "leader", "--formatter", "json"))
    return next(entry["leader"] for entry in listed if entry["name"] == queue)


def answers_to(listener, bookings, timeout):
    """Read answers until every booking has one (or the time is up); return them, one per message id."""
    deadline = time.monotonic() + timeout
    while {message.booking_id for message in listener.messages} < bookings and time.monotonic() < deadline:
        listener.receive(count=len(listener.messages) + 1, timeout=1)
    time.sleep(1)  # a second answer to any booking would have come by now
    listener.drain()
    return list({message.properties.message_id: message for message in listener.messages}.values())


def consumed(metrics_port, result):
    text = requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
    line = f'ticket_consumer_messages_total{{queue="{QUEUE}",result="{result}"}} '
    return sum(float(row.removeprefix(line)) for row in text.splitlines() if row.startswith(line))


def assert_answered_once_each(answers, bookings, database, event_id):
    """Every booking has one answer (the relay's copies carry its MessageId); the seats held are those answered."""
    assert Counter(answer.booking_id for answer in answers) == dict.fromkeys(bookings, 1)
    assert database.inbox_count(QUEUE) == REQUESTS
    held_events = {(ticket, answer.booking_id) for answer in answers if answer.type_name == "TicketHeldEvent"
                   for ticket in answer.body["ticketIds"]}
    held_rows = {(ticket, owner) for ticket, (status, owner) in database.tickets(event_id).items() if status == "Held"}
    assert held_rows == held_events
    assert len(held_rows) == len({ticket for ticket, _ in held_rows}) == TICKETS
    assert sum(answer.type_name == "TicketHoldFailedEvent" for answer in answers) == REQUESTS - TICKETS


def test_a_node_killed_mid_stampede_loses_no_hold_and_answers_each_once(
    rabbitmq_cluster, app, database_url, make_tickets, event_id, tmp_path
):
    cluster, database = rabbitmq_cluster, Database(app)
    victim, *survivors = cluster.nodes
    namespace = app.config["MESSAGE_NAMESPACE"]
    make_tickets(event_id, TICKETS)
    env = {"APP_ENV": "development", "DATABASE_URL": database_url, "MESSAGE_NAMESPACE": namespace,
           "LOG_LEVEL": "INFO", "OUTBOX_POLL_SECONDS": "1"} | cluster.settings
    fleet = Fleet(os.environ | env, tmp_path, ready_count(cluster, database))
    (metrics_port,) = free_ports(1)
    bookings = [str(uuid.uuid4()) for _ in range(REQUESTS)]
    messages = [raw("HoldTicketsRequest", {"bookingId": booking, "eventId": event_id, "numberOfTickets": 1},
                    message_id=new_id()) for booking in bookings]
    broker = probe = None
    publishers = []
    try:
        consumer, relay, probe, publishers = start_on(victim, cluster, fleet, metrics_port, messages)
        placed = cluster.connections(via=survivors[0])
        assert {name: placed[name] for name in SERVICE_CONNECTIONS} == dict.fromkeys(SERVICE_CONNECTIONS, [victim])
        assert placed[None] == [victim] * PUBLISHERS
        assert queue_leader(cluster, survivors[0], QUEUE) == victim.name

        broker = Broker(survivors[0].url, namespace)
        listener = broker.listen(*ANSWER_TYPES)
        started = time.monotonic()
        for publisher in publishers:
            publisher.start()
        assert eventually(lambda: database.inbox_count(QUEUE) >= REQUESTS // 3, timeout=60)
        cluster.kill(victim)
        at_kill = (sum(publisher.published for publisher in publishers), database.inbox_count(QUEUE))
        assert at_kill[1] < REQUESTS, "the stampede was over before the kill"

        for publisher in publishers:
            publisher.join(timeout=60)
        assert not any(publisher.is_alive() for publisher in publishers), "a publisher never got its confirms"
        answers = answers_to(listener, set(bookings), timeout=60)
        elapsed = time.monotonic() - started
        assert_answered_once_each(answers, bookings, database, event_id)
        # Nothing ready is left; the dead node's consumer stays listed (suspected down) beside the live one.
        assert broker.queue_counts(QUEUE)[0] == 0, "a request is left in the quorum queue"
        assert broker.queue_counts(f"{QUEUE}_error") == (0, 0)
        assert eventually(lambda: database.scalar(
            "SELECT count(*) FROM outbox_messages WHERE published_at IS NULL") == 0)

        # The same processes carried on, on the nodes left; the health probe reads the queue on one of them.
        assert consumer.alive() and relay.alive()
        assert probe.read([QUEUE])[QUEUE]["backlog"] == 0
        moved = {name: nodes[-1] for name, nodes in cluster.connections(via=survivors[0]).items()}
        assert all(moved[name] in survivors for name in SERVICE_CONNECTIONS), moved
        assert "connection lost" in consumer.log(last=10**6) and "connection lost" in relay.log(last=10**6)
        print(f"\n{REQUESTS} holds for {TICKETS} seats in {elapsed:.1f} s; at the kill {at_kill[0]} published "
              f"and {at_kill[1]} applied; {sum(p.retried for p in publishers)} publishes retried; "
              f"{len(listener.messages) - REQUESTS} answers published twice; "
              f"{consumed(metrics_port, 'duplicate'):g} deliveries dropped as duplicates by the inbox; moved to "
              f"{ {name: node.name for name, node in moved.items() if name in SERVICE_CONNECTIONS} }; "
              f"leader now {queue_leader(cluster, survivors[0], QUEUE)}")
    finally:
        for publisher in publishers:
            publisher.stopped.set()
        for connection in (broker, probe):
            if connection is not None:
                connection.close()
        fleet.stop()
