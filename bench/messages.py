"""Messages: 10,000 HoldTicketsRequests through one `python -m consumers hold-tickets` process.

    .venv/bin/python bench/messages.py [--messages 10000] [--max-seconds 60] [--sql-messages 1000]

In a RabbitMQ vhost of this run, requests (2 seats each, raw JSON with MassTransit's
headers, on the HoldTicketsRequest exchange) are queued before each reader starts:
`--messages` for the bare pika consume-and-ack loop (bench/baseline_consumer.py), then
`--sql-messages` for the same loop applying each request with psycopg2 and the service's
SQL before its ack (a yardstick of what one sequential consumer can do here), then
`--messages` for the consumer. Each is timed from its first message to its last (the
consumer's from the inbox rows it writes), so start-up does not count. The consumer is
bounded by `--max-seconds`: what it has not taken by then is purged from the queue, and said.

End to end: with the outbox relay running, requests are then published at half the
consumer's rate for `--latency-seconds`; each one's latency runs from its publishing to
its TicketHeldEvent reaching a queue bound to that event's exchange.

Targets: consumer >= 0.5 x the bare consume-and-ack loop's messages/s, and >= 1.5 x the same
loop applying the service's SQL one message per transaction (the consumer commits a batch
at a time). After the run: every applied message
holds 2 seats, no seat twice, one answer each, nothing in hold-tickets_error.
"""

import argparse
import json
import statistics
import subprocess
import sys
import time

from harness import BENCH, bench_database, create_event, libpq_url, one_row, scalar, spawn, standalone, stop, url_of
from invariants import hold_checks
from procfs import cpu_seconds
from rabbit import NAMESPACE, connect, depth, end_to_end, publish_holds, purge, vhost, wait_depth
from report import Row, check

from app.messaging.topology import declare_consumer, error_queue
from config import Config

SCENARIO = "messages"
QUEUE = "hold-tickets"
BATCH, LINGER_MS = Config.CONSUMER_BATCH, Config.CONSUMER_LINGER_MS
INBOX_SQL = """
    SELECT count(*) AS applied, extract(epoch FROM max(received_at) - min(received_at)) AS span
      FROM inbox_messages WHERE consumer = :queue
"""


def parser():
    """Return the scenario's options."""
    options = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument("--messages", type=int, default=10_000)
    options.add_argument("--max-seconds", type=int, default=60)
    options.add_argument("--sql-messages", type=int, default=1_000)
    options.add_argument("--latency-seconds", type=int, default=5)
    return options


def _bare_loop(amqp, count, *extra):
    """Queue `count` requests, run a bare loop over them; return its messages/s."""
    command = [sys.executable, str(BENCH / "baseline_consumer.py"), amqp, QUEUE, str(count), "--timeout", "60", *extra]
    seen = json.loads(subprocess.run(command, check=True, capture_output=True, text=True, timeout=120).stdout)
    return (seen["count"] - 1) / (seen["last"] - seen["first"]) if seen["count"] > 1 else 0.0


def _inbox(engine):
    row = one_row(engine, INBOX_SQL, queue=QUEUE)
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


def _consume(engine, amqp, args):
    """Run the consumer over the queued requests; return (applied, messages/s, CPU ms per message)."""
    consumer = spawn([sys.executable, "-m", "consumers", QUEUE], log="consumer.log",
                     env={"DATABASE_URL": url_of(engine), "RABBITMQ_URL": amqp, "METRICS_PORT": "0"})
    _wait(engine, 1, 60)
    cpu, first = cpu_seconds(consumer.pid), _inbox(engine)[0]
    applied, rate = _wait(engine, args.messages, args.max_seconds)
    cpu_ms = 1000 * (cpu_seconds(consumer.pid) - cpu) / max(applied - first, 1)
    if applied < args.messages:
        purge(amqp, QUEUE)
        applied, rate = _settle(engine)
    return consumer, applied, rate, cpu_ms


def _latency(engine, amqp, event_id, rate, args):
    """Run the relay and publish at `rate`; return (latencies in ms, requests sent, not applied)."""
    applied = _inbox(engine)[0]
    relay = spawn([sys.executable, "-m", "consumers", "relay"], log="relay.log",
                  env={"DATABASE_URL": url_of(engine), "RABBITMQ_URL": amqp, "METRICS_PORT": "0"})
    try:
        _wait_relayed(engine)
        latencies, sent = end_to_end(amqp, event_id, rate, args.latency_seconds)
        done, _ = _wait(engine, applied + sent, 30)
    finally:
        stop(relay)
    return latencies, sent, max(0, applied + sent - done)


def _percentile(values, share):
    return statistics.quantiles(values, n=100)[share - 1] if len(values) > 1 else float("nan")


def run(args):
    """Run the scenario on a database of its own; return its rows."""
    with bench_database("messages") as engine:
        return _run(engine, args)


def _run(engine, args):
    tickets = 2 * (args.messages + args.sql_messages) + 4_000
    event_id = create_event(engine, tickets)
    with vhost() as amqp:
        with connect(amqp) as connection:
            declare_consumer(connection.channel(), NAMESPACE, QUEUE)
        for count, extra in ((args.messages, ()), (args.sql_messages, ("--dsn", libpq_url(url_of(engine))))):
            publish_holds(amqp, event_id, count)
            wait_depth(amqp, QUEUE, count)
            if extra:
                bare_sql = _bare_loop(amqp, count, *extra)
            else:
                bare = _bare_loop(amqp, count)
        purge(amqp, QUEUE)
        publish_holds(amqp, event_id, args.messages)
        wait_depth(amqp, QUEUE, args.messages)
        consumer, applied, rate, cpu_ms = _consume(engine, amqp, args)
        try:
            latencies, sent, missing = _latency(engine, amqp, event_id, max(rate / 2, 1), args)
        finally:
            stop(consumer)
        faulted = depth(amqp, error_queue(QUEUE))
    applied_all = scalar(engine, "SELECT count(*) FROM inbox_messages")
    done = f"all {args.messages:,} applied" if applied >= args.messages else (
        f"{applied:,} of {args.messages:,} applied in the {args.max_seconds} s bound, the rest purged")
    return [
        Row(SCENARIO, "messages/s", rate, "/s", bare, (">=", 0.5),
            [f"{done}; consumer CPU {cpu_ms:.1f} ms per message, {1000 / rate if rate else 0:.1f} ms wall"]),
        Row(SCENARIO, "messages/s vs bare pika + psycopg2, same SQL", rate, "/s", bare_sql, (">=", 1.5),
            [f"CONSUMER_BATCH {BATCH}, CONSUMER_LINGER_MS {LINGER_MS}; the bare loop commits each message"]),
        Row(SCENARIO, "end-to-end p99", _percentile(latencies, 99), "ms", None, None,
            [f"{len(latencies)} of {sent} answered at {max(rate / 2, 1):.0f}/s (half the consumer's rate);"
             f" p50 {_percentile(latencies, 50):.0f} ms"]),
        check(SCENARIO, "requests not applied or unanswered", missing + sent - len(latencies)),
        check(SCENARIO, "messages in hold-tickets_error", faulted),
        *hold_checks(engine, SCENARIO, event_id, tickets=tickets, ok=applied_all, in_flight=0),
    ]


if __name__ == "__main__":
    standalone(run, parser())
