"""Quantity holds on one event: throughput per LOCK_STRATEGY, and the oversell check.

    .venv/bin/python bench/holds.py [--connections 32] [--seconds 10] [--tickets 200000]

Each strategy gets a fresh event with enough tickets not to sell out, the API under
gunicorn, and wrk with `--connections` clients each holding 2 seats per request.
"""

import argparse

from harness import bench_database, gunicorn, scalar, wrk

STRATEGIES = ("ticket", "event", "none")


def run(engine, strategy, event_id, args):
    """Benchmark one strategy; return holds/s, latencies and the invariant check."""
    with engine.begin() as connection:
        connection.exec_driver_sql(
            f"INSERT INTO tickets (event_id) SELECT {event_id} FROM generate_series(1, {args.tickets})"
        )
    with gunicorn(workers=args.workers, env={"LOCK_STRATEGY": strategy}) as base_url:
        result = wrk(base_url, "hold_quantity.lua", connections=args.connections, seconds=args.seconds,
                     env={"EVENT_ID": str(event_id)})
    held = scalar(engine, "SELECT count(*) FROM tickets WHERE event_id = :e AND status = 'Held'", e=event_id)
    wrong = scalar(
        engine,
        "SELECT count(*) FROM (SELECT booking_id FROM tickets WHERE event_id = :e AND status = 'Held'"
        " GROUP BY booking_id HAVING count(*) <> 2) AS wrong",
        e=event_id,
    )
    successes = result["requests"] - result["errors_status"]
    return {
        "strategy": strategy,
        "holds_per_s": successes / result["seconds"],
        "p50_ms": result["p50_ms"],
        "p99_ms": result["p99_ms"],
        "refused": int(result["errors_status"]),
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
    with bench_database() as engine:
        rows = [run(engine, strategy, 1000 + n, args) for n, strategy in enumerate(args.strategies)]
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
