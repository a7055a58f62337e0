"""A queue consumer: one pika connection, one queue, messages handled in batches.

The I/O loop stays on the main thread, so heartbeats go on while messages are handled
on a worker thread. The worker takes up to `CONSUMER_BATCH` deliveries (waiting at most
`CONSUMER_LINGER_MS` for more after the first), handles them in one transaction, each
in a savepoint of its own, and hands the verdicts back to the I/O thread, which settles
them only then (the transaction has committed by that time): faulted and skipped
messages are moved aside with confirms, retries are returned one by one, and the rest
is acked with one `multiple` ack. A lost connection is retried with backoff, on any
node of a cluster (`app.messaging.nodes`): what was not acked comes again, and the inbox
drops what was applied already. SIGTERM finishes the batch in hand and returns the rest
to the queue.
"""

import functools
import logging
import queue as queues
import threading
import time

import pika
from pika.exceptions import AMQPError

from app.messaging.faults import Failure, error_headers, skipped_headers
from app.messaging.handlers import HANDLERS
from app.messaging.host import address
from app.messaging.nodes import connection_parameters
from app.messaging.processing import Verdict, process_batch
from app.messaging.topology import declare_consumer, error_queue, skipped_queue
from app.runtime import Stopper, run_with_reconnect

log = logging.getLogger(__name__)

RETRY_DELAY_SECONDS = 1


class QueueConsumer:
    """Consume one queue with the app's services until stopped."""

    def __init__(self, app, queue):
        self.app = app
        self.queue = queue
        self.stopper = Stopper()

    def run(self):
        """Consume until SIGTERM or SIGINT."""
        self.stopper.install()
        log.info("consuming %s", self.queue)
        run_with_reconnect(self._consume, self.stopper, self.queue)

    def _consume(self):
        config = self.app.config
        connection = pika.BlockingConnection(connection_parameters(config["RABBITMQ_URL"], self.queue))
        deliveries = queues.Queue()
        try:
            channel = connection.channel()
            declare_consumer(channel, config["MESSAGE_NAMESPACE"], self.queue, config["RABBITMQ_QUEUE_TYPE"])
            channel.basic_qos(prefetch_count=max(config["CONSUMER_PREFETCH"], config["CONSUMER_BATCH"]))
            faults = connection.channel()
            faults.confirm_delivery()
            worker = threading.Thread(
                target=self._work, args=(connection, channel, faults, deliveries), daemon=True
            )
            worker.start()
            channel.basic_consume(self.queue, lambda _ch, method, props, body: deliveries.put(
                (method.delivery_tag, method.exchange, props, body)))
            while not self.stopper.is_set() and worker.is_alive():
                connection.process_data_events(time_limit=0.5)
            deliveries.put(None)
            while worker.is_alive():
                connection.process_data_events(time_limit=0.1)
            connection.process_data_events(time_limit=0)
        finally:
            deliveries.put(None)
            if connection.is_open:
                connection.close()

    def _next_batch(self, deliveries):
        """Return up to `CONSUMER_BATCH` deliveries: the next one, and those that come within the linger.

        Returns None once the I/O thread says to stop.
        """
        first = deliveries.get()
        if first is None:
            return None
        batch = [first]
        size = self.app.config["CONSUMER_BATCH"]
        deadline = time.monotonic() + self.app.config["CONSUMER_LINGER_MS"] / 1000
        while len(batch) < size:
            try:
                item = deliveries.get(timeout=max(0.0, deadline - time.monotonic()))
            except queues.Empty:
                break
            if item is None:
                deliveries.put(None)
                break
            batch.append(item)
        return batch

    def _work(self, connection, channel, faults, deliveries):
        """Handle deliveries a batch at a time on this thread; settle each batch on the I/O thread."""
        while not self.stopper.is_set():
            batch = self._next_batch(deliveries)
            if batch is None:
                return
            verdicts = self._handle(batch)
            if any(verdict.action == "retry" for verdict in verdicts):
                self.stopper.wait(RETRY_DELAY_SECONDS)
            settle = functools.partial(self._settle, channel, faults, batch, verdicts)
            try:
                connection.add_callback_threadsafe(settle)
            except AMQPError:
                return

    def _handle(self, batch):
        deliveries = [(exchange, properties, body) for _tag, exchange, properties, body in batch]
        try:
            with self.app.app_context():
                return process_batch(self.queue, deliveries)
        except Exception as exc:  # noqa: BLE001 - an unforeseen failure faults the messages, not the consumer
            log.exception("%s: unexpected failure", self.queue)
            failure = Failure.of(exc)
            return [Verdict("error", failure.message, failure)] * len(batch)

    def _moved(self, properties, verdict):
        """Return where a faulted or skipped delivery goes, and its properties with MassTransit's headers."""
        if verdict.action == "skip":
            destination, headers = skipped_queue(self.queue), skipped_headers(properties.headers)
        else:
            destination = error_queue(self.queue)
            headers = error_headers(
                properties.headers, verdict.failure,
                input_address=address(self.app.config["RABBITMQ_URL"], self.queue),
                consumer_type=f"{HANDLERS[self.queue].__module__}.{HANDLERS[self.queue].__name__}",
                full_name=verdict.message_type,
            )
        moved = pika.BasicProperties(
            content_type=properties.content_type,
            message_id=properties.message_id,
            correlation_id=properties.correlation_id,
            delivery_mode=pika.DeliveryMode.Persistent,
            headers=headers,
        )
        return destination, moved

    def _settle(self, channel, faults, batch, verdicts):
        """Move aside, return or ack each delivery of a batch (runs on the I/O thread).

        Returns and moves go first, one by one; one `multiple` ack of the last delivery
        left then acks the rest of the batch (every earlier batch is settled already).
        """
        acked = None
        for (tag, _exchange, properties, body), verdict in zip(batch, verdicts, strict=True):
            if verdict.action == "retry" or (verdict.action in ("error", "skip")
                                             and not self._move(faults, properties, body, verdict)):
                channel.basic_nack(tag, requeue=True)
            else:
                acked = tag
        if acked is not None:
            channel.basic_ack(acked, multiple=True)

    def _move(self, faults, properties, body, verdict):
        """Publish a faulted or skipped delivery to its queue with confirms; return whether the broker took it."""
        destination, moved = self._moved(properties, verdict)
        log.warning("%s: message moved to %s: %s", self.queue, destination, verdict.reason)
        try:
            faults.basic_publish(destination, "", body, moved)
        except AMQPError:
            return False
        return True
