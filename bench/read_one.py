"""Read one: GET /api/Ticket/{id} of random ids, with the Redis cache on (as deployed).

    .venv/bin/python bench/read_one.py [--connections 64] [--seconds 10] [--tickets 1000]

The ids of an event of `--tickets` tickets are written to a file the wrk script draws
from. The API and the bare baseline (the same SELECT by primary key, no cache) first
get `--warmup` seconds each (the cache fills, PostgreSQL's buffers too), then take
turns for `--seconds` each. Target: API >= 0.9 x baseline requests/s, every answer 200.
"""

import argparse
import contextlib

from harness import api, baseline, bench_database, create_event, standalone, url_of, write_ids
from load import cpu_note, interleave, metric, wrk
from report import Row, check

SCENARIO = "read one"


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


def run(args):
    """Run the scenario on a database of its own; return its rows."""
    with bench_database("read_one") as engine:
        return _run(engine, args)


def _run(engine, args):
    url = url_of(engine)
    event_id = create_event(engine, args.tickets)
    env = {"IDS_FILE": str(write_ids(engine, event_id, "read-one.ids"))}
    with contextlib.ExitStack() as servers:
        app = servers.enter_context(api(url))
        bare = servers.enter_context(baseline(url))
        contestants = [(app, "read_one.lua", env | {"READ_PATH": "/api/Ticket/"}),
                       (bare, "read_one.lua", env | {"READ_PATH": "/ticket/"})]
        for server, script, script_env in contestants:
            wrk(server.url, script, connections=args.connections, seconds=args.warmup, env=script_env)
            server.drain()
        hits_before = metric(app, "ticket_cache_requests_total", cache="ticket", result="hit")
        app_result, bare_result = interleave(contestants, seconds=args.seconds, connections=args.connections)
        hits = metric(app, "ticket_cache_requests_total", cache="ticket", result="hit") - hits_before
    notes = [f"API p50 {app_result['p50_ms']:.0f} ms, p99 {app_result['p99_ms']:.0f} ms; baseline"
             f" p50 {bare_result['p50_ms']:.0f} ms, p99 {bare_result['p99_ms']:.0f} ms;"
             f" cache hits {hits / max(app_result['requests'], 1):.0%} of the measured requests",
             cpu_note((("API", app_result), ("baseline", bare_result)))]
    return [
        Row(SCENARIO, "requests/s", app_result["ok_per_s"], "/s", bare_result["ok_per_s"], (">=", 0.9), notes),
        check(SCENARIO, "answers not 200", _not_ok(app_result)),
        check(f"{SCENARIO} baseline", "answers not 200", _not_ok(bare_result)),
    ]


if __name__ == "__main__":
    standalone(run, parser())
