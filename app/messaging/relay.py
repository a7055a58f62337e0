"""The outbox relay: publish committed events to RabbitMQ with publisher confirms.

Each batch takes the oldest unpublished rows with FOR UPDATE SKIP LOCKED (several
relays never take the same row), turns each into its wire messages (`outbound`),
publishes them with confirms, and marks the rows whose every message the broker
confirmed. Whatever was not confirmed stays for the next attempt, so an event may be
sent twice after a crash, never lost; its `MessageId`, the same each time, lets
consumers drop the copy. The relay sleeps on PostgreSQL's LISTEN/NOTIFY, waking at
each commit.
"""

import logging
import select
import time

import pika
import psycopg2
from opentelemetry.trace import SpanKind
from pika.exceptions import AMQPError
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT
from sqlalchemy.engine import make_url

from app import metrics
from app.extensions import db
from app.messaging.consumer import Stopper, connection_parameters, run_with_reconnect
from app.messaging.outbound import wire_messages
from app.messaging.topology import declare_published
from app.tickets.transaction import transaction
from app.tracing import extract_context, inject_context, tracer

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


def publish_pending(channel, config, batch_size):
    """Publish one batch of unpublished events; return how many were confirmed.

    :raises AMQPError: the broker refused or the connection failed; what it had
        confirmed before is marked published all the same.
    """
    started = time.monotonic()
    with transaction():
        rows = db.session.execute(PENDING_SQL, {"batch_size": batch_size}).all()
        confirmed, failure = [], None
        for row in rows:
            try:
                _publish_one(channel, config, row)
            except AMQPError as exc:
                failure = exc
                break
            except (KeyError, TypeError, ValueError):
                log.exception("outbox row %s cannot be turned into messages; it stays unpublished", row.id)
                continue
            confirmed.append(row.id)
            metrics.PUBLISH_LATENCY.observe(float(row.age) + time.monotonic() - started)
        if confirmed:
            db.session.execute(MARK_SQL, {"ids": confirmed})
        metrics.OUTBOX_BACKLOG.set(db.session.execute(BACKLOG_SQL).scalar_one() - len(confirmed))
    metrics.OUTBOX_PUBLISHED.inc(len(confirmed))
    if failure is not None:
        raise failure
    return len(confirmed)


def _publish_one(channel, config, row):
    """Publish the messages of one outbox row, continuing the trace of the change that wrote it."""
    with tracer.start_as_current_span(f"{row.message_type} send", context=extract_context(row.headers),
                                      kind=SpanKind.PRODUCER):
        for message in wire_messages(row, config, inject_context({})):
            channel.basic_publish(message.exchange, message.routing_key, message.body, message.properties)


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
        url = make_url(self.app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
        listener = psycopg2.connect(url.render_as_string(hide_password=False))
        listener.autocommit = True
        listener.cursor().execute("LISTEN outbox")
        return listener

    def _relay(self):
        config = self.app.config
        connection = pika.BlockingConnection(connection_parameters(config["RABBITMQ_URL"]))
        try:
            channel = connection.channel()
            channel.confirm_delivery()
            declare_published(channel, config["MESSAGE_NAMESPACE"])
            with self.app.app_context():
                listener = self._listen()
                try:
                    self._loop(connection, channel, listener)
                finally:
                    listener.close()
        except psycopg2.Error as exc:
            raise OSError(f"database: {exc}") from exc
        finally:
            if connection.is_open:
                connection.close()

    def _loop(self, connection, channel, listener):
        config = self.app.config
        while not self.stopper.is_set():
            sent = publish_pending(channel, config, config["OUTBOX_BATCH_SIZE"])
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
