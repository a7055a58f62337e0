"""The seated-events migration (0004) on a big, busy tickets table: how long sales stall.

A database at revision 0003 gets `--tickets` general-admission tickets (10,000,000 by
default, spread over 1,000 events). Then, while `--writers` threads keep holding tickets
one transaction at a time (a quantity hold's statement: lock the first Available ticket
of an event with SKIP LOCKED and move it to Held), and while one transaction keeps the
table locked against DDL for `--blocker-seconds` at the start (an open transaction that
has read the table: ADD COLUMN must wait for it, and every writer behind that wait
would queue), `flask db upgrade` runs 0003 -> 0004. Reported: the migration's time, and
the writers' slowest transaction and transactions per second before and during it.

Not part of `make bench` (it takes minutes): run it alone,

    .venv/bin/python bench/migration.py                 # 10,000,000 tickets
    .venv/bin/python bench/migration.py --tickets 1000000
"""

import argparse
import os
import subprocess
import sys
import threading
import time

from harness import ROOT, bench_database, url_of
from sqlalchemy import create_engine, text

HOLD_SQL = text(
    """
    UPDATE tickets SET status = 'Held', held_until = now() + interval '10 minutes',
           booking_id = gen_random_uuid(), version = version + 1, updated_at = now()
     WHERE id = (SELECT id FROM tickets WHERE event_id = :event_id AND status = 'Available'
                  ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
    """
)


def _options():
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--tickets", type=int, default=10_000_000)
    options.add_argument("--writers", type=int, default=4)
    options.add_argument("--blocker-seconds", type=float, default=5)
    return options.parse_args()


def _flask_db(url, command, revision):
    env = os.environ | {"DATABASE_URL": url, "FLASK_APP": "wsgi"}
    subprocess.run([sys.executable, "-m", "flask", "db", command, revision], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=3_600)


class Writers:
    """Threads holding one ticket per transaction; each transaction's time is kept with when it ended."""

    def __init__(self, engine, count):
        self.engine, self.done, self.stop = engine, [], threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(n,)) for n in range(count)]

    def _run(self, n):
        with self.engine.connect() as connection:
            event_id = n + 1
            while not self.stop.is_set():
                started = time.monotonic()
                with connection.begin():
                    connection.execute(HOLD_SQL, {"event_id": event_id})
                self.done.append((time.monotonic(), time.monotonic() - started))

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_):
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def between(self, start, end):
        """Return (transactions per second, slowest transaction in seconds) of those that ended in [start, end)."""
        times = [seconds for ended, seconds in self.done if start <= ended < end]
        return len(times) / max(end - start, 1e-9), max(times, default=0)


def _blocker(engine, seconds):
    """Keep a transaction that has read the tickets table open for `seconds` (ADD COLUMN must wait for it)."""
    with engine.connect() as connection, connection.begin():
        connection.execute(text("SELECT count(*) FROM (SELECT 1 FROM tickets LIMIT 1) AS one"))
        time.sleep(seconds)


def main():
    """Insert the tickets, start the writers and the blocker, migrate, report."""
    args = _options()
    with bench_database("migration") as engine:
        url = url_of(engine)
        _flask_db(url, "downgrade", "0003")  # bench_database migrates to the head: start from 0003
        started = time.monotonic()
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO tickets (event_id) SELECT g % 1000 + 1"
                                    " FROM generate_series(1, :n) AS g"), {"n": args.tickets})
            connection.execute(text("ANALYZE tickets"))
        print(f"{args.tickets:,} tickets inserted in {time.monotonic() - started:.0f} s")
        busy = create_engine(url, pool_size=args.writers + 2)
        with Writers(busy, args.writers) as writers:
            time.sleep(5)
            calm_end = time.monotonic()
            blocker = threading.Thread(target=_blocker, args=(busy, args.blocker_seconds))
            blocker.start()
            _flask_db(url, "upgrade", "0004")
            migrated = time.monotonic()
            blocker.join()
            time.sleep(1)
        calm_rate, calm_worst = writers.between(calm_end - 5, calm_end)
        rate, worst = writers.between(calm_end, migrated)
        print(f"migration 0003 -> 0004: {migrated - calm_end:.1f} s (a transaction kept the table for"
              f" {args.blocker_seconds:.0f} s at its start)")
        print(f"writers before: {calm_rate:.0f} holds/s, slowest {calm_worst * 1000:.0f} ms")
        print(f"writers during: {rate:.0f} holds/s, slowest {worst * 1000:.0f} ms")
        busy.dispose()


if __name__ == "__main__":
    main()
