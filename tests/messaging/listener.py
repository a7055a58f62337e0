"""Test queues: bound to the exchanges the service publishes to, they read what it published."""

import json
import time
from dataclasses import dataclass

import pika


@dataclass(frozen=True)
class Received:
    """A message read from a test queue."""

    exchange: str
    properties: pika.BasicProperties
    raw_body: bytes

    @property
    def type_name(self):
        return self.exchange.rsplit(":", 1)[-1]

    @property
    def headers(self):
        return self.properties.headers or {}

    @property
    def body(self):
        return json.loads(self.raw_body)

    @property
    def booking_id(self):
        return self.body.get("bookingId")


class Listener:
    """A test queue bound to message type exchanges; remembers everything it read."""

    def __init__(self, broker, type_names, durable_name=None):
        self.broker = broker
        self.messages = []
        channel = broker.channel
        if durable_name:
            self.queue = channel.queue_declare(durable_name, durable=True).method.queue
        else:
            self.queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
        for type_name in type_names:
            exchange = broker.exchange(type_name)
            channel.exchange_declare(exchange, exchange_type="fanout", durable=True)
            channel.queue_bind(self.queue, exchange)

    def drain(self):
        """Read whatever is in the queue now."""
        while True:
            method, properties, body = self.broker.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                return
            self.messages.append(Received(method.exchange, properties, body))

    def matching(self, booking_id=None, types=None):
        """Return the messages read so far for this booking (any if None) and of these types."""
        return [
            message for message in self.messages
            if (booking_id is None or message.booking_id == str(booking_id))
            and (types is None or message.type_name in types)
        ]

    def receive(self, booking_id=None, *, types=None, count=1, timeout=10):
        """Wait until `count` messages match; return them (fewer if the time ran out)."""
        deadline = time.monotonic() + timeout
        while True:
            self.drain()
            found = self.matching(booking_id, types)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            self.broker.connection.sleep(0.02)
