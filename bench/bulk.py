"""Bulk: POST /api/Ticket/bulk of 1,000,000 tickets, against the same INSERT ... SELECT in psql.

    .venv/bin/python bench/bulk.py [--tickets 1000000] [--rounds 2]

Runs on a database of its own, emptied before every insert so that each one starts from
the same empty table: psql and the API take turns `--rounds` times (who goes first
alternates); the fastest of each counts (on a shared machine the fastest run is the
least disturbed one). The worker's
peak memory is measured over each request.

Targets: API seconds <= 1.25 x psql; worker peak RSS <= 200 MB; every ticket created.
"""

import argparse
import subprocess
import time

import requests
from harness import api, bench_database, libpq_url, new_event_id, scalar, standalone, url_of
from procfs import PeakRss
from report import Row, check

SCENARIO = "bulk"
LOCK_EXPIRED = "expired before it was released"


def parser():
    """Return the scenario's options."""
    options = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument("--tickets", type=int, default=1_000_000)
    options.add_argument("--rounds", type=int, default=2)
    return options


def _empty(engine):
    with engine.begin() as connection:
        connection.exec_driver_sql("TRUNCATE tickets, ticket_status_changes, idempotency_keys")


def _psql(url, event_id, tickets):
    statement = f"INSERT INTO tickets (event_id) SELECT {event_id} FROM generate_series(1, {tickets})"
    started = time.perf_counter()
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", libpq_url(url), "-c", statement],
                   check=True, capture_output=True, timeout=300)
    return time.perf_counter() - started


def _api(server, event_id, tickets):
    started = time.perf_counter()
    answer = requests.post(f"{server.url}/api/Ticket/bulk", json={"eventId": event_id, "quantity": tickets},
                           timeout=300)
    elapsed = time.perf_counter() - started
    answer.raise_for_status()
    return elapsed, answer.json()["ticketsCreated"]


def _psql_round(engine, args):
    _empty(engine)
    event_id = new_event_id()
    seconds = _psql(url_of(engine), event_id, args.tickets)
    return seconds, args.tickets - scalar(engine, "SELECT count(*) FROM tickets WHERE event_id = :e", e=event_id)


def _api_round(engine, server, args):
    _empty(engine)
    event_id = new_event_id()
    with PeakRss(server.process.pid) as rss:
        seconds, created = _api(server, event_id, args.tickets)
    in_database = scalar(engine, "SELECT count(*) FROM tickets WHERE event_id = :e", e=event_id)
    return seconds, rss.peak_mb, abs(args.tickets - created) + abs(args.tickets - in_database)


def _rounds(engine, server, args):
    """Take turns, psql first in even rounds, the API first in odd ones.

    Returns the seconds of psql and of the API, the API's peak RSS, and the tickets missing.
    """
    psql, app, peaks, missing = [], [], [], 0
    for number in range(args.rounds):
        for turn in ("psql", "api") if number % 2 == 0 else ("api", "psql"):
            if turn == "psql":
                seconds, lost = _psql_round(engine, args)
                psql.append(seconds)
            else:
                seconds, peak, lost = _api_round(engine, server, args)
                app.append(seconds)
                peaks.append(peak)
            missing += lost
    _empty(engine)
    return psql, app, peaks, missing


def run(args):
    """Run the scenario on a database of its own, emptied before each insert; return its rows."""
    with bench_database("bulk") as engine, api(url_of(engine), name="api-bulk") as server:
        psql, app, peaks, missing = _rounds(engine, server, args)
        expired = server.log_text().count(LOCK_EXPIRED)
    listed = f"API {', '.join(f'{s:.1f}' for s in app)} s; psql {', '.join(f'{s:.1f}' for s in psql)} s"
    notes = [listed] + ([f"the event's Redis lock (LOCK_TTL_SECONDS) expired before {expired} insert(s) ended"]
                        if expired else [])
    return [
        Row(SCENARIO, f"seconds for {args.tickets:,}", min(app), "s", min(psql), ("<=", 1.25), notes),
        Row(SCENARIO, "worker peak RSS", max(peaks), "MB", None, ("<=", 200)),
        check(SCENARIO, "tickets missing or extra", missing),
    ]


if __name__ == "__main__":
    standalone(run, parser())
