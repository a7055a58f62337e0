"""Flash sale: one event, 64 connections each holding 2 seats by quantity, a new booking per request.

    .venv/bin/python bench/flash_sale.py [--connections 64] [--seconds 10] [--tickets 100000]

Bounded by time, not by the sell-out: the API (default LOCK_STRATEGY), the bare baseline
on the same SQL and the API with LOCK_STRATEGY=event each get an event of `--tickets`
seats, which a 2-core machine cannot sell out in the time, and take turns for `--seconds`
each. Then a small event, sized from the API's rate to go in half of `--sellout-seconds`
(an odd number of seats, so one is left), is sold out for real on the default API.
After every run the database is checked (see invariants.py).

Targets: API >= 0.7 x baseline holds/s; API p99 <= 100 ms; default >= 3 x event; 0 oversold.
"""

import argparse
import contextlib

from harness import api, baseline, create_event, scalar, standalone, url_of
from invariants import answers_check, hold_checks
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
    options.add_argument("--sellout-seconds", type=int, default=6)
    return options


def _latencies(result):
    return f"p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms"


def _sellout(engine, server, args, rate):
    """Sell out an event sized to go in half of `--sellout-seconds` at `rate` holds/s (odd: one seat stays)."""
    label = f"{SCENARIO} sell-out"
    tickets = 2 * max(10, round(rate * args.sellout_seconds / 2)) + 1
    event_id = create_event(engine, tickets)
    result = wrk(server.url, "hold_quantity.lua", connections=args.connections, seconds=args.sellout_seconds,
                 env={"EVENT_ID": str(event_id), "HOLD_PATH": API_PATH})
    left = scalar(engine, "SELECT count(*) FROM tickets WHERE event_id = :e AND status = 'Available'", e=event_id)
    note = (f"{tickets:,} seats, {args.sellout_seconds} s: {result['ok']:.0f} holds, {result['refused']:.0f}"
            f" refused (409), {left} seat(s) left")
    checks = hold_checks(engine, label, event_id, tickets=tickets, ok=int(result["ok"]),
                         in_flight=args.connections + int(result["failed"]))
    return [check(label, "seats left beyond the odd one", max(0, left - 1), [note]), *checks,
            answers_check(label, result)]


def run(engine, args):
    """Run the scenario; return its rows."""
    url = url_of(engine)
    labels = (SCENARIO, f"{SCENARIO} baseline", f"{SCENARIO} event lock")
    events = [create_event(engine, args.tickets) for _ in labels]
    with contextlib.ExitStack() as servers:
        app = servers.enter_context(api(url))
        bare = servers.enter_context(baseline(url))
        event = servers.enter_context(api(url, env={"LOCK_STRATEGY": "event"}, name="api-event"))
        contestants = [(server, "hold_quantity.lua", {"EVENT_ID": str(event_id), "HOLD_PATH": path})
                       for server, event_id, path in zip((app, bare, event), events,
                                                         (API_PATH, BASELINE_PATH, API_PATH), strict=True)]
        results = interleave(contestants, seconds=args.seconds, connections=args.connections)
        sellout = _sellout(engine, app, args, results[0]["ok_per_s"])
    checks = []
    for label, event_id, result in zip(labels, events, results, strict=True):
        checks += hold_checks(engine, label, event_id, tickets=args.tickets, ok=int(result["ok"]),
                              in_flight=len(result["turns"]) * args.connections + int(result["failed"]))
        checks.append(answers_check(label, result))
    app, bare, event = results
    return [
        Row(SCENARIO, "holds/s", app["ok_per_s"], "/s", bare["ok_per_s"], (">=", 0.7),
            [f"API {_latencies(app)}; baseline {_latencies(bare)}; {args.connections} connections,"
             f" {args.seconds} s each in turns on {args.tickets:,} seats (bounded by time, not sold out)",
             cpu_note((("API", app), ("baseline", bare), ("API with event lock", event)))]),
        Row(SCENARIO, "p99 latency", app["p99_ms"], "ms", None, ("<=", 100), [f"baseline p99 {bare['p99_ms']:.0f} ms"]),
        Row(SCENARIO, "holds/s default vs LOCK_STRATEGY=event", app["ok_per_s"], "/s", event["ok_per_s"], (">=", 3),
            [f"event lock: {_latencies(event)}, {event['refused']:.0f} refused (409 busy)"]),
        *checks[:4], *sellout, *checks[4:],
    ]


if __name__ == "__main__":
    standalone(run, parser())
