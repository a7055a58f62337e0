"""Read event: GET /api/Ticket/event/{id} of an event of 100,000 tickets, against psql.

    .venv/bin/python bench/read_event.py [--tickets 100000] [--rounds 3]

The baseline is psql running the service's own query (each ticket's JSON rendered by
PostgreSQL's json_build_object, through a cursor of 2,000 rows as the API streams it),
its output to a file; the API's answer goes to a file with curl. They take turns
`--rounds` times; the medians count. The worker's memory is measured over each request.
Afterwards the two outputs must hold the same tickets, field for field.

Targets: API seconds <= 2 x psql; worker RSS growth <= 50 MB.
"""

import argparse
import json
import statistics
import subprocess
import time

from harness import api, bench_database, create_event, libpq_url, scratch, standalone, url_of
from procfs import PeakRss
from report import Row, check

from app.tickets.queries import TICKET_JSON

SCENARIO = "read event"


def parser():
    """Return the scenario's options."""
    options = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument("--tickets", type=int, default=100_000)
    options.add_argument("--rounds", type=int, default=3)
    return options


def _timed(command):
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return time.perf_counter() - started


def _psql(url, event_id, output):
    query = f"SELECT {TICKET_JSON} FROM tickets WHERE event_id = {int(event_id)} ORDER BY id"
    return _timed(["psql", "-X", "-q", "-A", "-t", "-v", "FETCH_COUNT=2000", "-d", libpq_url(url), "-o", str(output),
                   "-c", query])


def _same_tickets(api_output, psql_output):
    """Return (tickets in the API's answer, tickets that differ from psql's)."""
    answered = json.loads(api_output.read_text())
    produced = [json.loads(line) for line in psql_output.read_text().splitlines() if line]
    return len(answered), sum(a != b for a, b in zip(answered, produced, strict=False)) + abs(
        len(answered) - len(produced))


def run(args):
    """Run the scenario on a database of its own; return its rows."""
    with bench_database("read_event") as engine:
        return _run(engine, args)


def _run(engine, args):
    url = url_of(engine)
    event_id = create_event(engine, args.tickets)
    api_output, psql_output = scratch("event-api.json"), scratch("event-psql.txt")
    api_seconds, psql_seconds, growth = [], [], []
    with api(url) as server:
        command = ["curl", "-sS", "--fail", "--max-time", "120", "-o", str(api_output),
                   f"{server.url}/api/Ticket/event/{event_id}"]
        for _ in range(args.rounds):
            psql_seconds.append(_psql(url, event_id, psql_output))
            with PeakRss(server.process.pid) as rss:
                api_seconds.append(_timed(command))
            growth.append(rss.growth_mb)
    count, different = _same_tickets(api_output, psql_output)
    seconds = statistics.median(api_seconds)
    notes = [f"API {', '.join(f'{s:.2f}' for s in api_seconds)} s; psql {', '.join(f'{s:.2f}' for s in psql_seconds)}"
             f" s; {api_output.stat().st_size / 1e6:.0f} MB of JSON"]
    return [
        Row(SCENARIO, "seconds", seconds, "s", statistics.median(psql_seconds), ("<=", 2), notes),
        Row(SCENARIO, "worker RSS growth", max(growth), "MB", None, ("<=", 50),
            [f"per request: {', '.join(f'{g:.1f}' for g in growth)} MB"]),
        check(SCENARIO, "tickets not as psql renders them", different + abs(count - args.tickets),
              [f"{count:,} tickets in the answer"]),
    ]


if __name__ == "__main__":
    standalone(run, parser())
