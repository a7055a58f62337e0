"""Full sell-out: an event of 20,000 seats sold to the last seat by 256 connections, and the 5 s after.

    .venv/bin/python bench/sellout.py [--connections 256] [--tickets 20000] [--after 5] [--cap 180]

The API (as `make run` serves it) and the bare baseline on the same SQL each get a database
of their own with a fresh event of `--tickets` seats. Every request holds 2 seats by
quantity for a new booking (lua/hold_quantity.lua).

- Warm-up: `load.warm_up`'s 2 s of the same requests on a small event of `WARMUP_TICKETS`
  seats, stored after the sale's event so that the sale's picks never walk past its rows.
- Sell, in turns of `TURN_SECONDS` taken in rotation (outside load falls on both alike):
  in its turn a contestant gets wrk, stopped early (SIGINT: wrk reports as at the end of
  its duration) once the database counts every seat Held, read every 0.2 s; then it works
  off what wrk left in flight. A turn's selling time is its wall time, that drain
  included: the server sells on at full speed until its queue is empty. The time to sell
  out is the earlier turns' selling time plus, in the last turn, the latest `updated_at`
  of the event's Held seats (the start of the transaction that held the last ones, on
  the database's clock) less the turn's start: the polling only decides when to stop wrk.
- After: right after its sell-out, in the same turn, wrk runs `--after` seconds more on
  the sold-out event; every answer should be 409. Refusals/s is its 409s over its seconds.

A contestant still selling after `--cap` seconds stops (its time is reported as nan and
its "seats not held" check fails). Then the database: exactly `--tickets` seats held,
no ticket moved to Held twice and every Held ticket moved from Available (audit rows),
every booking holding 0 or 2 seats (one with none has no row), besides
`invariants.hold_checks`. Reported, API vs baseline, with no target: the time to sell
out and refusals/s after. wrk's own CPU is in the notes: with 256 connections and a new
TCP connection a request (gunicorn's sync workers close each), it shares the 2 cores.
"""

import argparse
import contextlib
import math
import resource
import time
from dataclasses import dataclass, field

from harness import Server, api, baseline, bench_database, create_event, scalar, standalone, url_of
from invariants import answers_check, hold_checks
from load import combine, warm_up, wrk, wrk_until
from report import Row, check
from sqlalchemy import Engine

SCENARIO = "sell-out"
TURN_SECONDS = 5
WARMUP_TICKETS = 1_000
HELD_SQL = "SELECT count(*) FROM tickets WHERE event_id = :e AND status = 'Held'"
LAST_HOLD_SQL = "SELECT extract(epoch FROM max(updated_at)) FROM tickets WHERE event_id = :e AND status = 'Held'"
NOT_FROM_AVAILABLE_SQL = """
    SELECT count(*) FROM ticket_status_changes c JOIN tickets t ON t.id = c.ticket_id
     WHERE t.event_id = :e AND c.to_status = 'Held' AND c.from_status <> 'Available'
"""
CONTESTANTS = (  # label, database, server, hold path
    (SCENARIO, "sellout_api", api, "/api/Ticket/hold"),
    (f"{SCENARIO} baseline", "sellout_baseline", baseline, "/hold"),
)


def parser():
    """Return the scenario's options."""
    options = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument("--connections", type=int, default=256)
    options.add_argument("--tickets", type=int, default=20_000)
    options.add_argument("--after", type=int, default=5, help="seconds of load after the sell-out")
    options.add_argument("--cap", type=int, default=180, help="most seconds of selling for a contestant")
    return options


@dataclass
class Sale:
    """One contestant's sale: where it runs, what wrk saw, how long it has sold."""

    label: str
    server: Server
    engine: Engine
    event_id: int
    path: str
    turns: list = field(default_factory=list)
    selling_seconds: float = 0.0
    sold_in: float | None = None
    after: dict | None = None

    @property
    def env(self):
        """Return the wrk script's environment."""
        return {"EVENT_ID": str(self.event_id), "HOLD_PATH": self.path}

    @property
    def seconds(self):
        """Return the time it took to sell out, NaN if it did not."""
        return math.nan if self.sold_in is None else self.sold_in

    def held(self):
        """Return how many of the event's seats are Held."""
        return scalar(self.engine, HELD_SQL, e=self.event_id)


def check_open_files(connections):
    """Refuse to start when wrk could not open `connections` sockets beside its other files."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < connections + 64:
        raise RuntimeError(f"ulimit -n is {soft}: too low for {connections} connections; raise it (ulimit -n 4096)")


def _turn(sale, args):
    """Sell for one turn; on the sell-out, record its time and run the `--after` seconds."""
    seconds = min(TURN_SECONDS, math.ceil(args.cap - sale.selling_seconds))
    started = time.time()
    sale.turns.append(wrk_until(sale.server.url, "hold_quantity.lua", lambda: sale.held() >= args.tickets,
                                connections=args.connections, seconds=seconds, env=sale.env))
    sale.server.drain()
    if sale.held() < args.tickets:
        sale.selling_seconds += time.time() - started
        return
    last_hold = float(scalar(sale.engine, LAST_HOLD_SQL, e=sale.event_id))
    sale.sold_in = sale.selling_seconds + last_hold - started
    sale.after = wrk(sale.server.url, "hold_quantity.lua", connections=args.connections, seconds=args.after,
                     env=sale.env)
    sale.server.drain()


def _sell(sales, args):
    """Take turns until every contestant has sold out or used up `--cap` seconds."""
    while selling := [sale for sale in sales if sale.sold_in is None and sale.selling_seconds < args.cap]:
        for sale in selling:
            _turn(sale, args)


def _checks(sale, args):
    """Return the invariant rows of a contestant's event after its sale and the seconds after."""
    held = sale.held()
    runs = [*sale.turns, *([sale.after] if sale.after else [])]
    whole = combine(runs)
    rows = [
        check(sale.label, "seats not held", args.tickets - held, [f"{held:,} of {args.tickets:,} held"]),
        check(sale.label, "Held rows not moved from Available",
              scalar(sale.engine, NOT_FROM_AVAILABLE_SQL, e=sale.event_id)),
        *hold_checks(sale.engine, sale.label, sale.event_id, tickets=args.tickets, ok=int(whole["ok"]),
                     in_flight=len(runs) * args.connections + int(whole["failed"])),
        answers_check(sale.label, whole),
    ]
    if sale.after:
        rows.append(check(sale.label, "answers not 409 after the sell-out", sale.after["ok"] + sale.after["failed"]))
    return rows


def _describe(name, sale, tickets):
    """Return a note of one contestant's sale and what came after."""
    sold = combine(sale.turns)
    after = sale.after or {"refused": 0, "seconds": math.nan, "p99_ms": math.nan, "wrk_cpu_s": math.nan}
    turns = f"{len(sale.turns)} turn" + ("s" if len(sale.turns) > 1 else "")
    return (f"{name}: {tickets // 2:,} holds in {sale.seconds:.1f} s ({tickets / 2 / sale.seconds:.0f}/s) over"
            f" {turns}, p50 {sold['p50_ms']:.0f} ms, p99 {sold['p99_ms']:.0f} ms, {sold['refused']:,.0f} refusals"
            f" before wrk stopped, wrk at {sold['wrk_cpu_s'] / sold['seconds']:.0%} of a core;"
            f" after: {after['refused']:,.0f} refusals in {after['seconds']:.1f} s, p99 {after['p99_ms']:.0f} ms,"
            f" wrk at {after['wrk_cpu_s'] / after['seconds']:.0%} of a core")


def _rows(app, bare, args):
    """Return the scenario's figures and checks."""
    def refusals_per_s(sale):
        return sale.after["refused_per_s"] if sale.after else math.nan

    notes = [f"{args.connections} connections, 2 seats a request, turns of {TURN_SECONDS} s, at most {args.cap} s",
             _describe("API", app, args.tickets), _describe("baseline", bare, args.tickets)]
    return [
        Row(SCENARIO, f"seconds to sell out {args.tickets:,} seats", app.seconds, "s", bare.seconds, None, notes),
        Row(SCENARIO, f"refusals/s in the {args.after} s after", refusals_per_s(app), "/s", refusals_per_s(bare)),
        *_checks(app, args), *_checks(bare, args),
    ]


def run(args):
    """Run the scenario; return its rows."""
    check_open_files(args.connections)
    with contextlib.ExitStack() as stack:
        sales, warmups = [], []
        for label, database, start, path in CONTESTANTS:
            engine = stack.enter_context(bench_database(database))
            event_id = create_event(engine, args.tickets)
            warmup_env = {"EVENT_ID": str(create_event(engine, WARMUP_TICKETS)), "HOLD_PATH": path}
            server = stack.enter_context(start(url_of(engine), name=database))
            sales.append(Sale(label, server, engine, event_id, path))
            warmups.append((server, "hold_quantity.lua", warmup_env))
        warm_up(warmups, connections=args.connections)
        _sell(sales, args)
        return _rows(*sales, args)


if __name__ == "__main__":
    standalone(run, parser())
