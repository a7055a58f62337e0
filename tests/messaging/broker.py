"""The test's own side of RabbitMQ: publish like a MassTransit peer, read what the service publishes."""

import contextlib
import subprocess
import time
import uuid

import pika
from pika.exceptions import AMQPConnectionError, AMQPError, ChannelClosedByBroker

from app.messaging.contracts import readme
from app.messaging.wire import as_guid
from tests.messaging.listener import Listener, Received

ANSWER_TYPES = tuple(contract.type_name() for contract in readme.PUBLISHED)
BROKER = "127.0.0.1:5672"


def rabbitmqctl(*args):
    """Run `rabbitmqctl -s` and return what it printed."""
    return subprocess.run(["rabbitmqctl", "-s", *args], check=True, capture_output=True, text=True,
                          timeout=60).stdout


@contextlib.contextmanager
def temporary_vhost(name):
    """Make a vhost for guest; delete it, and everything in it, afterwards. Yield its AMQP URL."""
    rabbitmqctl("add_vhost", name)
    rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    try:
        yield f"amqp://guest:guest@{BROKER}/{name}"
    finally:
        rabbitmqctl("delete_vhost", name)
CONNECT_SECONDS = 30


def assert_wire_format(message, type_name, *, namespace, booking_id, conversation_id):
    """Check an event's envelope-free form: camelCase JSON, persistent, with MassTransit's headers."""
    headers = message.headers
    assert message.type_name == type_name
    assert message.properties.content_type == "application/json"
    assert message.properties.delivery_mode == 2
    assert headers["MT-MessageType"] == f"urn:message:{namespace}:{type_name}"
    assert str(uuid.UUID(headers["MessageId"])) == headers["MessageId"] == message.properties.message_id
    assert headers["CorrelationId"] == str(booking_id) == message.properties.correlation_id
    assert headers["ConversationId"] == str(as_guid(conversation_id))
    assert all(key[:1].islower() for key in message.body), message.body


class Broker:
    """A connection to this run's vhost, for one test."""

    def __init__(self, url, namespace):
        self.url = url
        self.namespace = namespace
        self.connection = None
        self.channel = None
        self.connect()

    def connect(self, timeout=CONNECT_SECONDS):
        """Open (or open again, after an outage) the connection and a confirming channel.

        A broker that refuses connections is tried again for a while: another test run on
        this machine may be restarting it.
        """
        self.close()
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.connection = pika.BlockingConnection(pika.URLParameters(self.url))
                break
            except AMQPConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.channel = self.connection.channel()
        self.channel.confirm_delivery()

    def close(self):
        """Close the connection; one the broker dropped is closed on our side too, freeing its sockets."""
        if self.connection is None or self.connection.is_closed:
            return
        with contextlib.suppress(AMQPError):
            self.connection.close()

    def exchange(self, type_name):
        """Return a type's exchange: `type_name` in the run's namespace, or as given when it names its own."""
        return type_name if ":" in type_name else f"{self.namespace}:{type_name}"

    def publish(self, exchange, body, *, content_type="application/json", message_id=None, headers=None):
        """Publish one persistent message and wait for the broker's confirm."""
        properties = pika.BasicProperties(
            content_type=content_type, message_id=message_id, headers=headers, delivery_mode=2
        )
        self.channel.basic_publish(exchange, "", body, properties)

    def send(self, outgoing, exchange=None):
        """Publish a built message to its type's exchange (or to `exchange`)."""
        self.publish(
            exchange or self.exchange(outgoing.type_name),
            outgoing.body,
            content_type=outgoing.content_type,
            message_id=outgoing.amqp_message_id,
            headers=outgoing.headers,
        )
        return outgoing

    def send_all(self, outgoings):
        """Publish many built messages fast: no confirm each, one synchronous channel close at the end.

        The broker handles a channel's frames in order, so once the close is answered every
        message has been routed to its queues.
        """
        channel = self.connection.channel()
        for outgoing in outgoings:
            properties = pika.BasicProperties(content_type=outgoing.content_type, delivery_mode=2,
                                              message_id=outgoing.amqp_message_id, headers=outgoing.headers)
            channel.basic_publish(self.exchange(outgoing.type_name), "", outgoing.body, properties)
        channel.close()

    def queue_counts(self, queue):
        """Return `(ready messages, consumers)` of a queue, or None when it does not exist."""
        channel = self.connection.channel()
        try:
            method = channel.queue_declare(queue, passive=True).method
        except ChannelClosedByBroker:
            return None
        channel.close()
        return method.message_count, method.consumer_count

    def listen(self, *type_names, durable_name=None):
        """Bind a new test queue to the exchanges of these message types (every answer by default)."""
        return Listener(self, type_names or ANSWER_TYPES, durable_name)

    def take(self, queue, message_id, timeout=10):
        """Read `queue` until the message with this AMQP message id comes; return it (None if not in time)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            method, properties, body = self.channel.basic_get(queue, auto_ack=True)
            if method is None:
                self.connection.sleep(0.05)
            elif properties.message_id == message_id:
                return Received(method.exchange, properties, body)
        return None


def consumer_count(parameters, queue):
    """Return how many consumers `queue` has, 0 when it does not exist or the broker cannot be reached."""
    try:
        connection = pika.BlockingConnection(parameters)
    except AMQPConnectionError:
        return 0  # the broker is restarting (another run's outage test)
    try:
        return connection.channel().queue_declare(queue, passive=True).method.consumer_count
    except ChannelClosedByBroker:
        return 0
    finally:
        if connection.is_open:
            connection.close()
