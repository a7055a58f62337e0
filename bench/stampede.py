"""Stampede: buyers asking to hold seats of a sold-out event, answered from Redis.

    .venv/bin/python bench/stampede.py [--connections 64] [--seconds 9]

An event of 2 seats is sold out through the API (one hold of 2, then one refused hold,
which leaves the sold-out answer in Redis). Then 64 connections ask to hold 2 seats of
it, each request a new booking, taking turns with the same API answering
`GET /health/live` (its floor: routing, auth, JSON, metrics, no work behind). PostgreSQL's
transaction count of the run's database (`pg_stat_database.xact_commit + xact_rollback`)
is read before and after the stampede's turns, less what an idle reading of it counts.

Targets: refusals/s >= 0.6 x the API's /health/live answers/s, and no database work per
refusal: at most 0.01 transactions a refusal, which is what the sold-out answer's expiry
costs (every SOLD_OUT_SECONDS the requests in flight when it ran out ask the database once
more, and the first refusal stores it again); every answer 409.
"""

import argparse
import contextlib
import time
import uuid

import requests
from harness import api, bench_database, create_event, scalar, standalone, url_of
from load import cpu_note, interleave, warm_up
from report import Row, check

SCENARIO = "stampede"
TRANSACTIONS_SQL = (
    "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
)
STATS_FLUSH_SECONDS = 2  # a backend reports its counts at most every second, and when idle


def parser():
    """Return the scenario's options."""
    options = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument("--connections", type=int, default=64)
    options.add_argument("--seconds", type=int, default=9)
    return options


def _transactions(engine):
    time.sleep(STATS_FLUSH_SECONDS)
    return scalar(engine, TRANSACTIONS_SQL)


def _hold(server, event_id):
    body = {"eventId": event_id, "bookingId": str(uuid.uuid4()), "numberOfTickets": 2}
    return requests.post(f"{server.url}/api/Ticket/hold", json=body, timeout=10).status_code


def run(args):
    """Run the scenario on a database of its own; return its rows."""
    with bench_database("stampede") as engine:
        return _run(engine, args)


def _run(engine, args):
    event_id = create_event(engine, 2)
    with contextlib.ExitStack() as servers:
        app = servers.enter_context(api(url_of(engine)))
        sold = [_hold(app, event_id), _hold(app, event_id)]
        contestants = [(app, "hold_quantity.lua", {"EVENT_ID": str(event_id)}), (app, "live.lua", {})]
        warm, _ = warm_up(contestants, connections=args.connections)  # before the count: not the turns' transactions
        before = _transactions(engine)
        idle = _transactions(engine) - before  # what reading the count costs, and anything in the background
        stampede, live = interleave(contestants, seconds=args.seconds, connections=args.connections, warmup=0)
        during = max(0, _transactions(engine) - before - 2 * idle)
    per_refusal = round(during / stampede["refused"], 3) if stampede["refused"] else float("nan")
    return [
        Row(SCENARIO, "refusals/s vs the API's /health/live", stampede["refused_per_s"], "/s",
            live["requests_per_s"], (">=", 0.6),
            [f"p99 {stampede['p99_ms']:.0f} ms vs {live['p99_ms']:.0f} ms; "
             + cpu_note([("stampede", stampede), ("live", live)])]),
        Row(SCENARIO, "database transactions per refusal", per_refusal, "", None, ("<=", 0.01),
            [f"{during} transactions for {stampede['refused']:.0f} refusals, beyond {idle} per idle reading"]),
        check(SCENARIO, "selling out did not go 200 then 409", 0 if sold == [200, 409] else 1, [f"answers {sold}"]),
        check(SCENARIO, "answers not 409", stampede["ok"] + stampede["failed"] + warm["ok"] + warm["failed"]),
    ]


if __name__ == "__main__":
    standalone(run, parser())
