"""Adjacent seats: parties of four holding seats side by side in a 20,000-seat venue, against plain quantity holds.

    .venv/bin/python bench/adjacent.py [--connections 64] [--seconds 10] [--count 4]

Two contestants, both the API, each on a database of its own with one seated event made
from the same layout (100 rows of 200 seats, the front 30 rows in category A, the rest in
B), taking turns under the flash-sale load: 64 connections, each request a new booking
holding `--count` seats by quantity; one asks for them `adjacent` (the best block free,
`app/tickets/blocks.py`), the other for any seats. Reported: adjacent holds/s against
plain holds/s; checked: the flash sale's invariants, and for every adjacent hold that its
seats are one row's contiguous block (0 split blocks, 0 seats in two holds).
"""

import argparse
import contextlib

import requests
from harness import api, bench_database, execute, new_event_id, scalar, standalone, url_of
from invariants import checks_after_turns
from load import cpu_note, interleave
from report import Row, check

SCENARIO = "adjacent seats"
ROWS, SEATS_PER_ROW, FRONT_ROWS = 100, 200, 30
SPLIT_SQL = """
    SELECT count(*) FROM (
        SELECT booking_id FROM tickets WHERE event_id = :e AND status = 'Held'
         GROUP BY booking_id
        HAVING count(DISTINCT row_rank) > 1 OR max(seat_position) - min(seat_position) + 1 <> count(*)) AS split
"""


def parser():
    """Return the scenario's options."""
    options = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument("--connections", type=int, default=64)
    options.add_argument("--seconds", type=int, default=10)
    options.add_argument("--count", type=int, default=4)
    return options


def venue():
    """Return the layout of the venue: ROWS rows of SEATS_PER_ROW seats in one section."""
    rows = [{"name": f"R{n + 1}", "seats": SEATS_PER_ROW, "category": "A" if n < FRONT_ROWS else "B"}
            for n in range(ROWS)]
    return {"currency": "EUR", "categories": {"A": {"price": "95.00"}, "B": {"price": "55.00"}},
            "sections": [{"name": "Arena", "rows": rows}]}


def _seated_event(server, engine):
    event_id = new_event_id()
    response = requests.put(f"{server.url}/api/Ticket/event/{event_id}/layout", json=venue(), timeout=120)
    response.raise_for_status()
    execute(engine, "ANALYZE tickets")
    return event_id


CONTESTANTS = ((SCENARIO, "adjacent", "true"), (f"{SCENARIO} plain", "plain", "false"))


def run(args):
    """Run the scenario; return its rows."""
    seats = ROWS * SEATS_PER_ROW
    with contextlib.ExitStack() as stack:
        contestants, runs = [], []
        for label, database, adjacent in CONTESTANTS:
            engine = stack.enter_context(bench_database(f"seats_{database}"))
            server = stack.enter_context(api(url_of(engine), name=f"api-{database}"))
            event_id = _seated_event(server, engine)
            env = {"EVENT_ID": str(event_id), "COUNT": str(args.count), "ADJACENT": adjacent}
            contestants.append((server, "hold_seats.lua", env))
            runs.append((label, engine, event_id))
        results = interleave(contestants, seconds=args.seconds, connections=args.connections)
        checks = []
        for (label, engine, event_id), result in zip(runs, results, strict=True):
            checks += checks_after_turns(engine, label, event_id, tickets=seats, result=result,
                                         connections=args.connections, size=args.count)
        split = scalar(runs[0][1], SPLIT_SQL, e=runs[0][2])
    adjacent, plain = results
    return [
        Row(SCENARIO, f"holds/s of {args.count} adjacent seats vs {args.count} any seats", adjacent["ok_per_s"], "/s",
            plain["ok_per_s"], None,
            [f"adjacent p50 {adjacent['p50_ms']:.0f} ms, p99 {adjacent['p99_ms']:.0f} ms; plain p50"
             f" {plain['p50_ms']:.0f} ms, p99 {plain['p99_ms']:.0f} ms; {args.connections} connections,"
             f" {args.seconds} s each in turns on {seats:,} seats",
             cpu_note((("adjacent", adjacent), ("plain", plain)))]),
        check(SCENARIO, "holds not one row's contiguous block", split),
        *checks,
    ]


if __name__ == "__main__":
    standalone(run, parser())
