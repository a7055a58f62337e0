"""The outbox relay: publish committed events to RabbitMQ with publisher confirms.

Each batch takes the oldest unpublished rows with FOR UPDATE SKIP LOCKED (several
relays never take the same row), turns each into its wire messages (`outbound`),
publishes them in one AMQP transaction on a channel in transaction mode, and marks the
rows once the broker has committed it (`tx.commit-ok` comes after every message is
routed and, for durable queues, written: one round trip confirms the batch, where
pika's blocking channel would wait for a publisher confirm per message). A batch the
broker did not commit stays for the next attempt, so an event may be sent twice after
a crash or a node's loss (the relay reconnects to another node of a cluster), never
lost; its `MessageId`, the same each time, lets consumers drop the copy. The relay
sleeps on PostgreSQL's LISTEN/NOTIFY, waking at each commit.
"""

import logging
import select
import time

import pika
import psycopg2
from opentelemetry.trace import SpanKind
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT

from app import metrics
from app.extensions import db
from app.messaging.nodes import connection_parameters
from app.messaging.outbound import wire_messages
from app.messaging.topology import declare_exchange, declare_published
from app.runtime import Stopper, run_with_reconnect
from app.tracing import extract_context, inject_context, tracer
from app.transaction import transaction

log = logging.getLogger(__name__)

WAKE_SECONDS = 0.5

PENDING_SQL = text(
    """
    SELECT id, message_type, body, headers, created_at,
           extract(epoch FROM clock_timestamp() - created_at) AS age
      FROM outbox_messages
     WHERE published_at IS NULL
     ORDER BY id
     LIMIT :batch_size
       FOR UPDATE SKIP LOCKED
    """
)
BACKLOG_SQL = text("SELECT count(*) FROM outbox_messages WHERE published_at IS NULL")
MARK_SQL = text("UPDATE outbox_messages SET published_at = now() WHERE id = ANY(:ids)").bindparams(
    bindparam("ids", type_=ARRAY(BIGINT))
)


def publish_pending(channel, config, batch_size, declared=None):
    """Publish one batch of unpublished events on a channel in transaction mode; return how many were published.

    `declared` holds the exchanges declared on the channel; others are declared first.

    :raises AMQPError: the broker refused or the connection failed; the batch stays unpublished.
    """
    started = time.monotonic()
    declared = declared if declared is not None else set()
    with transaction():
        rows = db.session.execute(PENDING_SQL, {"batch_size": batch_size}).all()
        published = [row for row in rows if _publish_one(channel, config, row, declared)]
        if rows:
            channel.tx_commit()
        for row in published:
            metrics.PUBLISH_LATENCY.observe(float(row.age) + time.monotonic() - started)
        if published:
            db.session.execute(MARK_SQL, {"ids": [row.id for row in published]})
        metrics.OUTBOX_BACKLOG.set(db.session.execute(BACKLOG_SQL).scalar_one() - len(published))
    metrics.OUTBOX_PUBLISHED.inc(len(published))
    return len(published)


def _publish_one(channel, config, row, declared):
    """Publish the messages of one outbox row, continuing the trace of the change that wrote it.

    Returns False for a row that cannot be turned into messages (a bug, logged): it stays
    unpublished, in the backlog, and the other rows go on.
    """
    with tracer.start_as_current_span(f"{row.message_type} send", context=extract_context(row.headers),
                                      kind=SpanKind.PRODUCER):
        try:
            messages = wire_messages(row, config, inject_context({}))
        except Exception:  # noqa: BLE001 - one bad row must not hold back the others
            log.exception("outbox row %s cannot be turned into messages; it stays unpublished", row.id)
            return False
        for message in messages:
            if message.exchange not in declared:
                declare_exchange(channel, message.exchange)
                declared.add(message.exchange)
            channel.basic_publish(message.exchange, message.routing_key, message.body, message.properties)
    return True


class OutboxRelay:
    """Relay the outbox to RabbitMQ until stopped."""

    def __init__(self, app):
        self.app = app
        self.stopper = Stopper()

    def run(self):
        """Relay until SIGTERM or SIGINT."""
        self.stopper.install()
        log.info("relaying the outbox")
        run_with_reconnect(self._relay, self.stopper, "relay")

    def _listen(self):
        # libpq's arguments as the engine's dialect makes them from the URL: with several hosts and
        # target_session_attrs, the listener reaches the primary, as the engine's connections do.
        arguments, keywords = db.engine.dialect.create_connect_args(db.engine.url)
        listener = psycopg2.connect(*arguments, **keywords)
        listener.autocommit = True
        listener.cursor().execute("LISTEN outbox")
        return listener

    def _relay(self):
        config = self.app.config
        connection = pika.BlockingConnection(connection_parameters(config["RABBITMQ_URL"], "relay"))
        try:
            channel = connection.channel()
            declared = declare_published(channel, config["MESSAGE_NAMESPACE"])
            channel.tx_select()
            with self.app.app_context():
                listener = self._listen()
                try:
                    self._loop(connection, channel, listener, declared)
                finally:
                    listener.close()
        except psycopg2.Error as exc:
            raise OSError(f"database: {exc}") from exc
        finally:
            if connection.is_open:
                connection.close()

    def _loop(self, connection, channel, listener, declared):
        config = self.app.config
        while not self.stopper.is_set():
            sent = publish_pending(channel, config, config["OUTBOX_BATCH_SIZE"], declared)
            if sent:
                log.info("published %d events", sent)
            if sent == config["OUTBOX_BATCH_SIZE"]:
                continue
            self._wait(connection, listener, config["OUTBOX_POLL_SECONDS"])

    def _wait(self, connection, listener, seconds):
        """Sleep until a commit notifies the outbox, `seconds` have passed, or a stop is asked for.

        The sleep is cut into slices of at most `WAKE_SECONDS`, so that SIGTERM is seen
        promptly and the broker connection's heartbeats go on, whatever the poll interval.
        """
        deadline = time.monotonic() + seconds
        while not self.stopper.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            notified = select.select([listener], [], [], min(remaining, WAKE_SECONDS))[0]
            connection.process_data_events(time_limit=0)
            if notified:
                listener.poll()
                listener.notifies.clear()
                return
