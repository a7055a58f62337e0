"""RabbitMQ for the message benchmark: a vhost of this run, HoldTicketsRequests as peers send them."""

import collections
import contextlib
import json
import subprocess
import sys
import threading
import time
import uuid
from urllib.parse import quote

import pika
from harness import RUN_ID

from app.messaging.contracts.readme import HoldTicketsRequest, TicketHeldEvent, TicketHoldFailedEvent

NAMESPACE = "Ticketer.Contracts"


def _ctl(*args):
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=120)


def _delete(name, attempts=6):
    """Delete the vhost, retrying for a while: the broker may be restarting (other runs' outage tests)."""
    for attempt in range(attempts):
        try:
            _ctl("delete_vhost", name)
            return
        except subprocess.CalledProcessError as exc:
            if attempt == attempts - 1:
                print(f"could not delete vhost {name}: {exc.stderr.decode(errors='replace')}", file=sys.stderr)
            time.sleep(5)


@contextlib.contextmanager
def vhost(suffix=""):
    """Create the vhost `bench-<pid>[-suffix]` for guest; delete it, and its queues, afterwards. Yield its URL."""
    name = f"bench-{RUN_ID}" + (f"-{suffix}" if suffix else "")
    _ctl("add_vhost", name)
    try:
        _ctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        yield f"amqp://guest:guest@127.0.0.1:5672/{quote(name, safe='')}"
    finally:
        _delete(name)


def connect(url):
    """Open a blocking connection (use it in a `with` block)."""
    return pika.BlockingConnection(pika.URLParameters(url))


def _envelope(booking_id, event_id, urn):
    message_id = str(uuid.uuid4())
    document = {"messageId": message_id, "conversationId": message_id, "messageType": [urn],
                "message": {"bookingId": booking_id, "eventId": event_id, "numberOfTickets": 2}, "headers": {}}
    properties = pika.BasicProperties(content_type="application/vnd.masstransit+json", delivery_mode=2,
                                      message_id=message_id)
    return json.dumps(document), properties


def publish_holds(url, event_id, count, *, rate=None, envelope=False):
    """Publish `count` HoldTicketsRequests for 2 seats, raw JSON with MassTransit's headers (or in its envelope).

    With `rate`, paced at that many per second. Returns {bookingId: time sent}.
    """
    sent = {}
    exchange = HoldTicketsRequest.full_name(NAMESPACE)
    urn = HoldTicketsRequest.urn(NAMESPACE)
    started = time.monotonic()
    with connect(url) as connection:
        channel = connection.channel()
        for n in range(count):
            if rate:
                time.sleep(max(0.0, started + n / rate - time.monotonic()))
            booking_id = str(uuid.uuid4())
            body = json.dumps({"bookingId": booking_id, "eventId": event_id, "numberOfTickets": 2})
            properties = pika.BasicProperties(content_type="application/json", delivery_mode=2,
                                              message_id=str(uuid.uuid4()), headers={"MT-MessageType": urn})
            if envelope:
                body, properties = _envelope(booking_id, event_id, urn)
            sent[booking_id] = time.time()
            channel.basic_publish(exchange, "", body, properties)
    return sent


def depth(url, queue):
    """Return how many messages wait in `queue`."""
    with connect(url) as connection:
        return connection.channel().queue_declare(queue, passive=True).method.message_count


def wait_depth(url, queue, count, timeout=60):
    """Wait until `queue` holds `count` messages."""
    deadline = time.monotonic() + timeout
    while depth(url, queue) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{queue} never reached {count} messages")
        time.sleep(0.2)


def purge(url, queue):
    """Drop the messages waiting in `queue` (not those a consumer has prefetched)."""
    with connect(url) as connection:
        connection.channel().queue_purge(queue)


class Answers(threading.Thread):
    """Collect the bookingIds of hold answers as they arrive, with their arrival times and how many each got."""

    def __init__(self, amqp):
        super().__init__(daemon=True)
        self.amqp, self.arrived, self.ready, self.stopping = amqp, {}, threading.Event(), threading.Event()
        self.counts = collections.Counter()

    def run(self):
        with connect(self.amqp) as connection:
            channel = connection.channel()
            queue = channel.queue_declare("", exclusive=True).method.queue
            for contract in (TicketHeldEvent, TicketHoldFailedEvent):
                channel.exchange_declare(contract.full_name(NAMESPACE), exchange_type="fanout", durable=True)
                channel.queue_bind(queue, contract.full_name(NAMESPACE))
            channel.basic_consume(queue, self._arrived, auto_ack=True)
            self.ready.set()
            while not self.stopping.is_set():
                connection.process_data_events(time_limit=0.1)

    def _arrived(self, _channel, _method, _properties, body):
        booking_id = json.loads(body)["bookingId"]
        self.arrived[booking_id] = time.time()
        self.counts[booking_id] += 1


def end_to_end(amqp, event_id, rate, seconds):
    """Publish at `rate` for `seconds`; return (latencies in ms, requests sent)."""
    answers = Answers(amqp)
    answers.start()
    answers.ready.wait(30)
    sent = publish_holds(amqp, event_id, min(max(10, int(rate * seconds)), 1_500), rate=rate)
    deadline = time.monotonic() + 30
    while len(answers.arrived) < len(sent) and time.monotonic() < deadline:
        time.sleep(0.1)
    answers.stopping.set()
    answers.join(10)
    return [1000 * (answers.arrived[b] - t) for b, t in sent.items() if b in answers.arrived], len(sent)
