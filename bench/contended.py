"""Contended ids: 64 connections holding 2 random given tickets of a 10,000-ticket event.

    .venv/bin/python bench/contended.py [--connections 64] [--seconds 10] [--tickets 10000]

Every request is a new booking asking for two ids drawn from the event's tickets (read
from a file written before the run), so more and more of them are refused (409) as the
seats go. The API (default LOCK_STRATEGY: a Redis lock per ticket in front of the row
locks) and the bare baseline (row locks alone, same SQL) each get an event of their own
and take turns. After the run: no ticket held twice, every count adds up.

Target: API >= 0.7 x baseline, in successful holds/s and in answered (200 + 409) holds/s.
"""

import argparse
import contextlib

from harness import api, baseline, bench_database, create_event, standalone, url_of, write_ids
from invariants import checks_after_turns
from load import cpu_note, interleave, metric
from report import Row

SCENARIO = "contended ids"


def parser():
    """Return the scenario's options."""
    options = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument("--connections", type=int, default=64)
    options.add_argument("--seconds", type=int, default=10)
    options.add_argument("--tickets", type=int, default=10_000)
    return options


def _describe(name, result):
    return (f"{name}: {result['ok_per_s']:.0f} held/s + {result['refused_per_s']:.0f} refused/s,"
            f" p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms")


def run(args):
    """Run the scenario on a database of its own; return its rows."""
    with bench_database("contended") as engine:
        return _run(engine, args)


def _run(engine, args):
    url = url_of(engine)
    labels = (SCENARIO, f"{SCENARIO} baseline")
    events = [create_event(engine, args.tickets) for _ in labels]
    ids = [write_ids(engine, event_id, f"contended-{event_id}.ids") for event_id in events]
    with contextlib.ExitStack() as servers:
        app = servers.enter_context(api(url))
        bare = servers.enter_context(baseline(url))
        contestants = [(server, "hold_ids.lua", {"EVENT_ID": str(event_id), "IDS_FILE": str(path), "HOLD_PATH": hold})
                       for server, event_id, path, hold in zip((app, bare), events, ids, ("/api/Ticket/hold", "/hold"),
                                                               strict=True)]
        results = interleave(contestants, seconds=args.seconds, connections=args.connections)
        busy = metric(app, "ticket_lock_busy_total")
    rows = []
    for label, event_id, result in zip(labels, events, results, strict=True):
        rows += checks_after_turns(engine, label, event_id, tickets=args.tickets, result=result,
                                   connections=args.connections)
    app, bare = results
    notes = [_describe("API", app), _describe("baseline", bare),
             f"API refusals for a busy Redis lock: {busy:.0f} of {app['with_warmup']['refused']:.0f}"
             " (warm-up included)",
             cpu_note((("API", app), ("baseline", bare)))]
    return [
        Row(SCENARIO, "successful holds/s", app["ok_per_s"], "/s", bare["ok_per_s"], (">=", 0.7), notes),
        Row(SCENARIO, "refused holds/s", app["refused_per_s"], "/s", bare["refused_per_s"]),
        Row(SCENARIO, "answered holds/s (200 + 409)", app["answered_per_s"], "/s", bare["answered_per_s"],
            (">=", 0.7)),
        *rows,
    ]


if __name__ == "__main__":
    standalone(run, parser())
