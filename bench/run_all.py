"""Run every benchmark scenario in one go (`make bench`) and print one table.

    .venv/bin/python bench/run_all.py [--only flash_sale read_one ...] [--markdown FILE] [--verbose]

The scenarios one after another, each on databases of its own (named after the run's
process id, like its RabbitMQ vhost, and removed afterwards), the whole run bounded by
`--budget` seconds (default 900): a scenario still running then is stopped and the rest
are skipped. Each line is a figure, its baseline measured in the same run, the ratio,
the target and PASS/FAIL; each scenario's invariant checks are folded into one line
(`--verbose` lists them all). Exit status 1 if anything failed.
"""

import argparse
import contextlib
import importlib
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

from harness import ROOT, SCRATCH, remove_scratch, server_url
from report import Row, markdown, print_rows, summarize
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool
from statements import drift

TOOLS = {  # command: the Debian package that has it
    "wrk": "wrk",
    "psql": "postgresql-client",
    "curl": "curl",
    "rabbitmqctl": "rabbitmq-server",
}
SCENARIOS = ("ceiling", "flash_sale", "contended", "read_one", "read_event", "bulk", "messages", "saga", "stampede",
             "adjacent", "sellout")


class OutOfTime(Exception):
    """The run's time budget is spent."""


def _out_of_time(*_):
    raise OutOfTime


def _stop(*_):
    raise SystemExit(143)


def machine():
    """Return the machine's description: cores, memory, CPU model, load."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
                 platform.processor())
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    memory_kb = int(next(line.split()[1] for line in meminfo if line.startswith("MemTotal")))
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return f"{os.cpu_count()} cores, {memory_kb / 2**20:.1f} GiB, {model}; load average at start {load}"


def code():
    """Return the commit under test and whether its app code has uncommitted changes."""
    def git(*args):
        command = ["git", "-C", str(ROOT), *args]
        return subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip()

    changed = git("status", "--porcelain", "--", "app", "consumers", "config.py", "wsgi.py", "migrations")
    return f"{git('rev-parse', '--short', 'HEAD') or 'unknown'}" + (" + uncommitted app changes" if changed else "")


def _postgres_started():
    """Return when the PostgreSQL server started (another job restarting it shows as a change)."""
    with contextlib.suppress(Exception), create_engine(server_url(), poolclass=NullPool).connect() as connection:
        return connection.exec_driver_sql("SELECT pg_postmaster_start_time()").scalar_one()
    return None


def _run_scenario(name):
    module = importlib.import_module(name)
    started = _postgres_started()
    try:
        rows = module.run(module.parser().parse_args([]))
        if _postgres_started() != started:
            rows.append(Row(module.SCENARIO, "PostgreSQL restarted meanwhile (not by the benchmark)", 1, "",
                            target=("<=", 0), invariant=True))
        return module.SCENARIO, rows
    except OutOfTime:
        raise
    except Exception as exc:  # noqa: BLE001 - one broken scenario must not stop the others
        traceback.print_exc()
        return module.SCENARIO, [Row(module.SCENARIO, "error", 1, "", target=("<=", 0),
                                     notes=[f"{type(exc).__name__}: {exc}"])]


def run(names, budget):
    """Run the named scenarios within `budget` seconds; return (scenario, rows) pairs."""
    deadline = time.monotonic() + budget
    results = []
    for number, name in enumerate(names):
        remaining = int(deadline - time.monotonic())
        print(f"[{time.strftime('%H:%M:%S')}] {name} ({remaining} s left)", file=sys.stderr, flush=True)
        signal.alarm(max(remaining, 1))
        try:
            results.append(_run_scenario(name))
        except OutOfTime:
            results += [(skipped, [Row(skipped, "not run: out of time", 1, "", target=("<=", 0))])
                        for skipped in names[number:]]
            break
        finally:
            signal.alarm(0)
    return results


def missing_tools():
    """Return the commands the benchmarks need that are not on the PATH, with how to install them."""
    missing = {command: package for command, package in TOOLS.items() if shutil.which(command) is None}
    if not missing:
        return None
    return (f"make bench needs {', '.join(missing)} on the PATH; on Debian or Ubuntu:\n"
            f"    apt-get install {' '.join(sorted(set(missing.values())))}")


def main():
    """Run the scenarios, print the table; exit 1 if a target or check failed, 2 if a tool is missing."""
    options = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument("--only", nargs="+", choices=SCENARIOS, default=SCENARIOS)
    options.add_argument("--budget", type=int, default=900)
    options.add_argument("--markdown", help="also write the table to this file")
    options.add_argument("--verbose", action="store_true", help="list every invariant check")
    args = options.parse_args()
    if problem := missing_tools():
        print(problem, file=sys.stderr)
        sys.exit(2)
    signal.signal(signal.SIGALRM, _out_of_time)
    signal.signal(signal.SIGTERM, _stop)
    missing, added = drift()
    print(f"machine: {machine()}")
    print(f"code: {code()}; baseline SQL: " + (
        "the service's own" if not (missing or added)
        else f"the service no longer sends {', '.join(missing) or '-'}; it sends new {', '.join(added) or '-'}"))
    started = time.monotonic()
    broken = True
    try:
        results = run(list(args.only), args.budget)
        broken = any(row.figure in ("error", "not run: out of time") or (row.invariant and not row.passed)
                     for _, rows in results for row in rows)
    finally:
        if broken:
            print(f"logs kept in {SCRATCH}", file=sys.stderr)
        else:
            remove_scratch()
    print(f"run took {time.monotonic() - started:.0f} s\n")
    rows = [row for scenario, found in results for row in (found if args.verbose else summarize(scenario, found))]
    print_rows(rows)
    if args.markdown:
        with open(args.markdown, "w") as output:
            output.write(markdown(rows) + "\n")
    sys.exit(1 if any(row.passed is False for row in rows) else 0)


if __name__ == "__main__":
    main()
