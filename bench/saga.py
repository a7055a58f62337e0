"""Saga: the Booking saga's flash sale over messages, end to end through the consumers and the relay.

    .venv/bin/python bench/saga.py [--bookings 20000] [--seats 5000] [--consumers 2] [--relays 1]

`--bookings` HoldTicketsRequests (2 seats each) for an event of `--seats` seats are
published as MassTransit envelopes to a queue of their own before any consumer starts;
then the hold consumers and the outbox relay start, and every answer (TicketHeldEvent or
TicketHoldFailedEvent) is read from a queue bound to both answers' exchanges. Timed
from the first request applied to the last answer received.

Contestants, each on a database and a RabbitMQ vhost of its own: the service as `make run`
lays it out (`--consumers` hold consumers, `--relays` relays, the default CONSUMER_BATCH),
and the baseline: the same service with CONSUMER_BATCH=1 and one consumer, so one
message per transaction, as before batches.

Target: >= 3 x the baseline's bookings/s. Checks: every booking answered exactly once,
nothing oversold, the held seats, their audit rows and their events add up.
"""

import argparse
import sys
import time

from harness import bench_database, create_event, one_row, spawn, standalone, stop, url_of
from invariants import hold_checks
from rabbit import NAMESPACE, Answers, connect, depth, publish_holds, vhost, wait_depth
from report import Row, check

from app.messaging.topology import declare_consumer, error_queue

SCENARIO = "saga"
QUEUE = "hold-tickets"
FIRST_APPLIED_SQL = "SELECT extract(epoch FROM min(received_at)) AS first, count(*) AS applied FROM inbox_messages"


def parser():
    """Return the scenario's options."""
    options = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument("--bookings", type=int, default=20_000)
    options.add_argument("--seats", type=int, default=5_000)
    options.add_argument("--consumers", type=int, default=2)
    options.add_argument("--relays", type=int, default=1)
    options.add_argument("--max-seconds", type=int, default=240)
    return options


def _contest(name, args, *, consumers, relays, env):
    """Run one contestant over its own database and vhost; return (bookings/s, rows of checks, note)."""
    with bench_database(f"saga_{name}") as engine, vhost(name) as amqp:
        event_id = create_event(engine, args.seats)
        with connect(amqp) as connection:
            declare_consumer(connection.channel(), NAMESPACE, QUEUE)
        answers = Answers(amqp)
        answers.start()
        answers.ready.wait(30)
        sent = publish_holds(amqp, event_id, args.bookings, envelope=True)
        wait_depth(amqp, QUEUE, args.bookings)
        common = {"DATABASE_URL": url_of(engine), "RABBITMQ_URL": amqp, "METRICS_PORT": "0"} | env
        processes = [spawn([sys.executable, "-m", "consumers", "relay"], env=common, log=f"saga-{name}-relay.log")
                     for _ in range(relays)]
        processes += [spawn([sys.executable, "-m", "consumers", QUEUE], env=common, log=f"saga-{name}-consumer.log")
                      for _ in range(consumers)]
        try:
            deadline = time.monotonic() + args.max_seconds
            while len(answers.arrived) < len(sent) and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(1)  # a second answer to any booking would have come by now
        finally:
            for process in processes:
                stop(process)
            answers.stopping.set()
            answers.join(10)
        first = float(one_row(engine, FIRST_APPLIED_SQL).first or time.time())
        last = max(answers.arrived.values(), default=first)
        rate = len(answers.arrived) / (last - first) if last > first else 0.0
        held = sum(1 for count in answers.counts.values() if count)
        rows = [
            check(SCENARIO, f"{name}: bookings not answered", len(sent) - held),
            check(SCENARIO, f"{name}: bookings answered more than once",
                  sum(1 for count in answers.counts.values() if count > 1)),
            check(SCENARIO, f"{name}: messages in hold-tickets_error", depth(amqp, error_queue(QUEUE))),
            *hold_checks(engine, SCENARIO, event_id, tickets=args.seats, ok=args.seats // 2, in_flight=0),
        ]
        note = f"{name}: {held:,} of {len(sent):,} answered in {last - first:.1f} s"
        return rate, rows, note


def run(args):
    """Run both contestants one after the other; return the rows."""
    baseline, baseline_rows, baseline_note = _contest("baseline", args, consumers=1, relays=1,
                                                      env={"CONSUMER_BATCH": "1"})
    rate, rows, note = _contest("service", args, consumers=args.consumers, relays=args.relays, env={})
    return [
        Row(SCENARIO, "bookings answered/s vs CONSUMER_BATCH=1, one consumer", rate, "/s", baseline, (">=", 3.0),
            [f"{note}; {baseline_note}; {args.consumers} consumers and {args.relays} relay(s)"]),
        *rows, *baseline_rows,
    ]


if __name__ == "__main__":
    standalone(run, parser())
