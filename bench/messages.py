"""Messages: 10,000 HoldTicketsRequests through one `python -m consumers hold-tickets` process.

    .venv/bin/python bench/messages.py [--messages 10000] [--max-seconds 60]

In a RabbitMQ vhost of this run, `--messages` requests (2 seats each, raw JSON with
MassTransit's headers, on the HoldTicketsRequest exchange) are queued before each reader
starts: first the bare pika consume-and-ack loop (bench/baseline_consumer.py), then the
consumer. Both are timed from their first message to their last (the consumer's from the
inbox rows it writes), so start-up does not count. The consumer is bounded by
`--max-seconds`: what it has not taken by then is purged from the queue, and said.

End to end: with the outbox relay running, requests are then published at half the
consumer's rate for `--latency-seconds`; each one's latency runs from its publishing to
its TicketHeldEvent reaching a queue bound to that event's exchange.

Target: consumer >= 0.5 x the bare loop's messages/s. After the run: every applied message
holds 2 seats, no seat twice, one answer each, nothing in hold-tickets_error.
"""

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time

from harness import BENCH, create_event, scalar, spawn, standalone, stop, url_of
from invariants import hold_checks
from rabbit import NAMESPACE, connect, depth, publish_holds, purge, vhost, wait_depth
from report import Row, check

from app.messaging.contracts import TicketHeldEvent, TicketHoldFailedEvent
from app.messaging.topology import declare_consumer, error_queue, exchange_name

SCENARIO = "messages"
QUEUE = "hold-tickets"
INBOX_SQL = """
    SELECT count(*) AS applied, extract(epoch FROM max(received_at) - min(received_at)) AS span
      FROM inbox_messages WHERE consumer = :queue
"""


def parser():
    """Return the scenario's options."""
    options = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument("--messages", type=int, default=10_000)
    options.add_argument("--max-seconds", type=int, default=60)
    options.add_argument("--latency-seconds", type=int, default=5)
    return options


def _bare_loop(amqp, count):
    """Run the bare consume-and-ack loop over `count` queued messages; return messages/s."""
    command = [sys.executable, str(BENCH / "baseline_consumer.py"), amqp, QUEUE, str(count), "--timeout", "120"]
    seen = json.loads(subprocess.run(command, check=True, capture_output=True, text=True, timeout=180).stdout)
    return (seen["count"] - 1) / (seen["last"] - seen["first"]) if seen["last"] else 0.0


def _inbox(engine):
    with engine.connect() as connection:
        row = connection.exec_driver_sql(INBOX_SQL.replace(":queue", f"'{QUEUE}'")).one()
    return row.applied, float(row.span or 0)


def _wait(engine, count, seconds):
    """Wait until `count` messages are applied or `seconds` pass; return (applied, messages/s)."""
    deadline = time.monotonic() + seconds
    applied, span = _inbox(engine)
    while applied < count and time.monotonic() < deadline:
        time.sleep(0.25)
        applied, span = _inbox(engine)
    return applied, (applied - 1) / span if span else 0.0


def _settle(engine):
    """Wait until the consumer has done the messages it had prefetched; return (applied, messages/s)."""
    previous = None
    while (now := _wait(engine, 0, 0)) != previous:
        previous = now
        time.sleep(1)
    return now


def _wait_relayed(engine, seconds=60):
    deadline = time.monotonic() + seconds
    while scalar(engine, "SELECT count(*) FROM outbox_messages WHERE published_at IS NULL") and (
            time.monotonic() < deadline):
        time.sleep(0.25)


class Answers(threading.Thread):
    """Collect the bookingIds of hold answers as they arrive, with their arrival times."""

    def __init__(self, amqp):
        super().__init__(daemon=True)
        self.amqp, self.arrived, self.ready, self.stopping = amqp, {}, threading.Event(), threading.Event()

    def run(self):
        with connect(self.amqp) as connection:
            channel = connection.channel()
            queue = channel.queue_declare("", exclusive=True).method.queue
            for contract in (TicketHeldEvent, TicketHoldFailedEvent):
                channel.exchange_declare(exchange_name(NAMESPACE, contract), exchange_type="fanout", durable=True)
                channel.queue_bind(queue, exchange_name(NAMESPACE, contract))
            channel.basic_consume(queue, self._arrived, auto_ack=True)
            self.ready.set()
            while not self.stopping.is_set():
                connection.process_data_events(time_limit=0.1)

    def _arrived(self, _channel, _method, _properties, body):
        self.arrived[json.loads(body)["bookingId"]] = time.time()


def _end_to_end(amqp, event_id, rate, seconds):
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


def _consume(engine, amqp, event_id, args):
    """Run the consumer over the queued messages, then the end-to-end phase; return the figures."""
    url = url_of(engine)
    consumer = spawn([sys.executable, "-m", "consumers", QUEUE], log="consumer.log",
                     env={"DATABASE_URL": url, "RABBITMQ_URL": amqp, "METRICS_PORT": "0"})
    try:
        applied, rate = _wait(engine, args.messages, args.max_seconds)
        if applied < args.messages:
            purge(amqp, QUEUE)
            applied, rate = _settle(engine)
        relay = spawn([sys.executable, "-m", "consumers", "relay"], log="relay.log",
                      env={"DATABASE_URL": url, "RABBITMQ_URL": amqp, "METRICS_PORT": "0"})
        try:
            _wait_relayed(engine)
            latencies, sent = _end_to_end(amqp, event_id, max(rate / 2, 1), args.latency_seconds)
            done, _ = _wait(engine, applied + sent, 30)
        finally:
            stop(relay)
    finally:
        stop(consumer)
    return applied, rate, latencies, sent, max(0, applied + sent - done), _inbox(engine)[0]


def run(engine, args):
    """Run the scenario; return its rows."""
    event_id = create_event(engine, 2 * args.messages + 4_000)
    with vhost() as amqp:
        with connect(amqp) as connection:
            declare_consumer(connection.channel(), NAMESPACE, QUEUE)
        publish_holds(amqp, event_id, args.messages)
        wait_depth(amqp, QUEUE, args.messages)
        bare = _bare_loop(amqp, args.messages)
        publish_holds(amqp, event_id, args.messages)
        wait_depth(amqp, QUEUE, args.messages)
        applied, rate, latencies, sent, missing, final = _consume(engine, amqp, event_id, args)
        faulted = depth(amqp, error_queue(QUEUE))
    p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) > 1 else float("nan")
    notes = [f"{applied:,} of {args.messages:,} applied in the time bound" if applied < args.messages
             else f"all {args.messages:,} applied"]
    return [
        Row(SCENARIO, "messages/s", rate, "/s", bare, (">=", 0.5), notes),
        Row(SCENARIO, "end-to-end p99", p99, "ms", None, None,
            [f"{len(latencies)} of {sent} answered at {max(rate / 2, 1):.0f}/s (half the consumer's rate);"
             f" p50 {statistics.median(latencies) if latencies else float('nan'):.0f} ms"]),
        check(SCENARIO, "requests not applied or unanswered", missing + sent - len(latencies)),
        check(SCENARIO, "messages in hold-tickets_error", faulted),
        *hold_checks(engine, SCENARIO, event_id, tickets=2 * args.messages + 4_000, ok=final, in_flight=0),
    ]


if __name__ == "__main__":
    standalone(run, parser())
