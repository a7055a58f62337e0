"""Load-generator ceiling: wrk against the bare app's GET /ping (no database, nothing behind it).

    .venv/bin/python bench/ceiling.py [--connections 64] [--seconds 5]

wrk, gunicorn's sync workers and the HTTP stack share the machine with the servers under
test; this is the most requests/s they can carry together here. A scenario whose figure
comes near it measures the load generator, not the service.
"""

import argparse

from harness import baseline, bench_database, standalone, url_of
from load import wrk
from report import Row

SCENARIO = "load ceiling"


def parser():
    """Return the scenario's options."""
    options = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument("--connections", type=int, default=64)
    options.add_argument("--seconds", type=int, default=5)
    return options


def run(args):
    """Run the scenario; return its rows."""
    with bench_database("ceiling") as engine, baseline(url_of(engine), name="ceiling") as server:
        result = wrk(server.url, "ping.lua", connections=args.connections, seconds=args.seconds)
    return [Row(SCENARIO, "wrk -> bare app /ping", result["ok_per_s"], "/s", None, None,
                [f"p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, {result['failed']:.0f} failed"])]


if __name__ == "__main__":
    standalone(run, parser())
