"""Quantity holds on one event: throughput per LOCK_STRATEGY, and the oversell check.

    .venv/bin/python bench/holds.py [--connections 32] [--seconds 10] [--tickets 200000]

Each strategy gets a fresh event with enough tickets not to sell out, the API under
gunicorn, and wrk with `--connections` clients each holding 2 seats per request.
(The flash-sale scenario of `make bench`, with the bare baseline, is bench/flash_sale.py.)
"""

import argparse

from harness import api, bench_database, create_event, remove_scratch, scalar, url_of
from load import wrk

STRATEGIES = ("ticket", "event", "none")


def run(engine, strategy, args):
    """Benchmark one strategy; return holds/s, latencies and the invariant check."""
    event_id = create_event(engine, args.tickets)
    with api(url_of(engine), workers=args.workers, env={"LOCK_STRATEGY": strategy}) as server:
        result = wrk(server.url, "hold_quantity.lua", connections=args.connections, seconds=args.seconds,
                     env={"EVENT_ID": str(event_id)})
    held = scalar(engine, "SELECT count(*) FROM tickets WHERE event_id = :e AND status = 'Held'", e=event_id)
    wrong = scalar(
        engine,
        "SELECT count(*) FROM (SELECT booking_id FROM tickets WHERE event_id = :e AND status = 'Held'"
        " GROUP BY booking_id HAVING count(*) <> 2) AS wrong",
        e=event_id,
    )
    return {
        "strategy": strategy,
        "holds_per_s": result["ok_per_s"],
        "p50_ms": result["p50_ms"],
        "p99_ms": result["p99_ms"],
        "refused": int(result["refused"] + result["failed"]),
        "oversold": max(0, held - args.tickets),
        "wrong_holds": wrong,
    }


def main():
    """Run every strategy and print one line each, with the ratio to the default."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--strategies", nargs="+", default=STRATEGIES)
    args = parser.parse_args()
    try:
        with bench_database() as engine:
            rows = [run(engine, strategy, args) for strategy in args.strategies]
    finally:
        remove_scratch()
    baseline = rows[0]["holds_per_s"]
    for row in rows:
        print(
            f"{row['strategy']:>7}: {row['holds_per_s']:8.1f} holds/s  p50 {row['p50_ms']:6.1f} ms"
            f"  p99 {row['p99_ms']:7.1f} ms  refused {row['refused']}  oversold {row['oversold']}"
            f"  wrong-size holds {row['wrong_holds']}"
            f"  ({row['holds_per_s'] / baseline:.2f}x {rows[0]['strategy']})"
        )


if __name__ == "__main__":
    main()
