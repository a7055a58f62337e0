"""Read one: GET /api/Ticket/{id} of random ids, with the Redis cache on (as deployed).

    .venv/bin/python bench/read_one.py [--connections 64] [--seconds 10] [--tickets 1000]

The ids of an event of `--tickets` tickets are written to a file the wrk script draws
from. The API and the bare baseline (the same SELECT by primary key, no cache) first
read every id once, 8 at a time (the API's cache then holds them all, however slowly
the machine lets it run: random draws in a short warm-up leave some out), then get
`--warmup` seconds each of the measured load (load.warm_up), then take turns for
`--seconds` each. Target: API >= 0.9 x baseline requests/s, every answer 200.
"""

import argparse
import contextlib
from concurrent.futures import ThreadPoolExecutor

import requests
from harness import api, baseline, bench_database, create_event, standalone, url_of, write_ids
from load import cpu_note, interleave, metric, warm_up
from report import Row, check

SCENARIO = "read one"
READERS = 8


def parser():
    """Return the scenario's options."""
    options = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument("--connections", type=int, default=64)
    options.add_argument("--seconds", type=int, default=10)
    options.add_argument("--warmup", type=int, default=3)
    options.add_argument("--tickets", type=int, default=1_000)
    return options


def _not_ok(result):
    return result["requests"] - result["ok"] + result["socket_errors"]


def _read_every_id(server, path, ids):
    """GET every id once through the server, `READERS` at a time."""
    def read(ticket_id):
        return requests.get(f"{server.url}{path}{ticket_id}", timeout=10).status_code

    with ThreadPoolExecutor(READERS) as readers:
        list(readers.map(read, ids))


def run(args):
    """Run the scenario on a database of its own; return its rows."""
    with bench_database("read_one") as engine:
        return _run(engine, args)


def _run(engine, args):
    url = url_of(engine)
    event_id = create_event(engine, args.tickets)
    ids_file = write_ids(engine, event_id, "read-one.ids")
    env = {"IDS_FILE": str(ids_file)}
    with contextlib.ExitStack() as servers:
        app = servers.enter_context(api(url))
        bare = servers.enter_context(baseline(url))
        contestants = [(app, "read_one.lua", env | {"READ_PATH": "/api/Ticket/"}),
                       (bare, "read_one.lua", env | {"READ_PATH": "/ticket/"})]
        for server, _, script_env in contestants:
            _read_every_id(server, script_env["READ_PATH"], ids_file.read_text().split())
        warm_up(contestants, seconds=args.warmup, connections=args.connections)
        hits_before = metric(app, "ticket_cache_requests_total", cache="ticket", result="hit")
        app_result, bare_result = interleave(contestants, seconds=args.seconds, connections=args.connections,
                                             warmup=0)
        hits = metric(app, "ticket_cache_requests_total", cache="ticket", result="hit") - hits_before
    notes = [f"API p50 {app_result['p50_ms']:.0f} ms, p99 {app_result['p99_ms']:.0f} ms; baseline"
             f" p50 {bare_result['p50_ms']:.0f} ms, p99 {bare_result['p99_ms']:.0f} ms;"
             f" cache hits {hits / max(app_result['served'], 1):.0%} of the measured requests",
             cpu_note((("API", app_result), ("baseline", bare_result)))]
    return [
        Row(SCENARIO, "requests/s", app_result["ok_per_s"], "/s", bare_result["ok_per_s"], (">=", 0.9), notes),
        check(SCENARIO, "answers not 200", _not_ok(app_result)),
        check(f"{SCENARIO} baseline", "answers not 200", _not_ok(bare_result)),
    ]


if __name__ == "__main__":
    standalone(run, parser())
