"""Flash sale: one event, 64 connections each holding 2 seats by quantity, a new booking per request.

    .venv/bin/python bench/flash_sale.py [--connections 64] [--seconds 10] [--tickets 100000]

Bounded by time, not by the sell-out: the API (default LOCK_STRATEGY), the bare baseline
on the same SQL and the API with LOCK_STRATEGY=event each get an event of `--tickets`
seats, which a 2-core machine cannot sell out in the time, and take turns for `--seconds`
each. Each has a database of its own with nothing but that event in it: where an event's
rows lie in the table changes what a pick costs (PostgreSQL may pick seats with a
sequential scan from the table's start), so every contestant gets the same layout.
A fourth contestant, reported beside, is the API on an event stored behind `--crowd`
tickets of another event, as a new event's rows lie in a table with past events.
Then a small event, sized from the API's rate to go in half of `--sellout-seconds` (an odd
number of seats, so one is left), is sold out for real on the default API.
After every run the database is checked (see invariants.py).

Targets: API >= 0.8 x baseline holds/s, p99 <= 1.5 x and CPU per hold <= 1.5 x the baseline's;
default >= 3 x event; 0 oversold.
"""

import argparse
import contextlib

from harness import api, baseline, bench_database, create_event, scalar, standalone, url_of
from invariants import answers_check, checks_after_turns, hold_checks
from load import cpu_note, interleave, wrk
from report import Row, check

SCENARIO = "flash sale"
API_PATH, BASELINE_PATH = "/api/Ticket/hold", "/hold"


def parser():
    """Return the scenario's options."""
    options = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument("--connections", type=int, default=64)
    options.add_argument("--seconds", type=int, default=10)
    options.add_argument("--tickets", type=int, default=100_000)
    options.add_argument("--crowd", type=int, default=500_000)
    options.add_argument("--sellout-seconds", type=int, default=6)
    return options


def _latencies(result):
    return f"p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms"


def _sellout(args, rate):
    """Sell out an event sized to go in half of `--sellout-seconds` at `rate` holds/s (odd: one seat stays)."""
    label = f"{SCENARIO} sell-out"
    tickets = 2 * max(10, round(rate * args.sellout_seconds / 2)) + 1
    with bench_database("flash_sellout") as engine, api(url_of(engine), name="api-sellout") as server:
        event_id = create_event(engine, tickets)
        result = wrk(server.url, "hold_quantity.lua", connections=args.connections, seconds=args.sellout_seconds,
                     env={"EVENT_ID": str(event_id), "HOLD_PATH": API_PATH})
        server.drain()
        left = scalar(engine, "SELECT count(*) FROM tickets WHERE event_id = :e AND status = 'Available'",
                      e=event_id)
        checks = hold_checks(engine, label, event_id, tickets=tickets, ok=int(result["ok"]),
                             in_flight=args.connections + int(result["failed"]))
    note = (f"{tickets:,} seats, {args.sellout_seconds} s: {result['ok']:.0f} holds, {result['refused']:.0f}"
            f" refused (409), {left} seat(s) left")
    return [check(label, "seats left beyond the odd one", max(0, left - 1), [note]), *checks,
            answers_check(label, result)]


CONTESTANTS = (  # label, database, server, LOCK_STRATEGY, hold path
    (SCENARIO, "flash_api", api, None, API_PATH),
    (f"{SCENARIO} baseline", "flash_baseline", baseline, None, BASELINE_PATH),
    (f"{SCENARIO} event lock", "flash_event", api, "event", API_PATH),
    (f"{SCENARIO} crowded", "flash_crowded", api, None, API_PATH),
)


def _contest(args):
    """Run the four contestants in turns; return their labels, results and invariant rows."""
    with contextlib.ExitStack() as stack:
        contestants, runs = [], []
        for label, database, start, strategy, path in CONTESTANTS:
            engine = stack.enter_context(bench_database(database))
            if database == "flash_crowded":
                create_event(engine, args.crowd)
            event_id = create_event(engine, args.tickets)
            env = {"LOCK_STRATEGY": strategy} if strategy else None
            server = stack.enter_context(start(url_of(engine), name=database, **({"env": env} if env else {})))
            contestants.append((server, "hold_quantity.lua", {"EVENT_ID": str(event_id), "HOLD_PATH": path}))
            runs.append((label, engine, event_id))
        results = interleave(contestants, seconds=args.seconds, connections=args.connections)
        checks = []
        for (label, engine, event_id), result in zip(runs, results, strict=True):
            checks += checks_after_turns(engine, label, event_id, tickets=args.tickets, result=result,
                                         connections=args.connections)
    return results, checks


def run(args):
    """Run the scenario; return its rows."""
    results, checks = _contest(args)
    app, bare, event, crowded = results
    sellout = _sellout(args, app["ok_per_s"])
    return [
        Row(SCENARIO, "holds/s", app["ok_per_s"], "/s", bare["ok_per_s"], (">=", 0.8),
            [f"API {_latencies(app)}; baseline {_latencies(bare)}; {args.connections} connections,"
             f" {args.seconds} s each in turns on {args.tickets:,} seats (bounded by time, not sold out)",
             cpu_note((("API", app), ("baseline", bare), ("API with event lock", event),
                       ("API crowded", crowded)))]),
        Row(SCENARIO, "p99 latency vs the bare app's p99", app["p99_ms"], "ms", bare["p99_ms"], ("<=", 1.5)),
        Row(SCENARIO, "API CPU per hold vs the bare app's", app["cpu_ms_per_request"], "ms", bare["cpu_ms_per_request"],
            ("<=", 1.5)),
        Row(SCENARIO, "holds/s default vs LOCK_STRATEGY=event", app["ok_per_s"], "/s", event["ok_per_s"], (">=", 3),
            [f"event lock: {_latencies(event)}, {event['refused']:.0f} refused (409 busy)"]),
        Row(SCENARIO, f"holds/s behind {args.crowd:,} other tickets vs alone", crowded["ok_per_s"], "/s",
            app["ok_per_s"], None, [f"crowded: {_latencies(crowded)}"]),
        *checks[:4], *sellout, *checks[4:],
    ]


if __name__ == "__main__":
    standalone(run, parser())
