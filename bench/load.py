"""Load: wrk runs with the scripts of bench/lua, their results, and turns taken between servers."""

import os
import random
import re
import subprocess

import requests
from harness import BENCH
from procfs import cpu_seconds


def wrk(url, script, *, connections, seconds, threads=2, env=None):
    """Run wrk with a script of bench/lua; return the numbers of its RESULT line."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency",
               "-s", script, url]
    env = os.environ | {"BENCH_SEED": str(random.randrange(2**30))} | (env or {})
    output = subprocess.run(command, cwd=BENCH / "lua", env=env, capture_output=True, text=True, check=True,
                            timeout=seconds + 60).stdout
    lines = output.splitlines()
    line = next(line for line in lines if line.startswith("RESULT"))
    other = next((line.split()[1:] for line in lines if line.startswith("OTHER")), [])
    result = {key: float(value) for key, value in re.findall(r"(\w+)=([\d.]+)", line)}
    return _rates(result | {"statuses": {int(code): int(count) for code, count in (s.split("x") for s in other)}})


def combine(results):
    """Add up wrk results of several segments: counts and seconds add, p50 is request-weighted, p99 the worst."""
    total = {key: sum(result.get(key, 0) for result in results)
             for key in ("requests", "ok", "refused", "other", "socket_errors", "seconds", "cpu_s", "served")}
    weight = total["requests"] or 1
    total["p50_ms"] = sum(result["p50_ms"] * result["requests"] for result in results) / weight
    for key in ("p90_ms", "p99_ms", "max_ms"):
        total[key] = max(result[key] for result in results)
    total["turns"] = [result["ok"] / result["seconds"] for result in results]
    total["statuses"] = {}
    for result in results:
        for code, count in result["statuses"].items():
            total["statuses"][code] = total["statuses"].get(code, 0) + count
    return _rates(total)


def _rates(result):
    for answer in ("ok", "refused", "requests"):
        result[f"{answer}_per_s"] = result[answer] / result["seconds"]
    result["answered_per_s"] = (result["ok"] + result["refused"]) / result["seconds"]
    result["failed"] = result["other"] + result["socket_errors"]
    result["cpu_ms_per_request"] = 1000 * result.get("cpu_s", 0) / (result.get("served") or result["requests"] or 1)
    return result


def interleave(contestants, *, seconds, rounds=3, connections=64):
    """Drive each contestant `(server, script, env)` for `seconds` in all, in `rounds` turns taken in rotation.

    The machine is shared: taking turns spreads any outside load over every contestant
    alike. After each turn the server works off the requests wrk left queued before the
    next turn starts. Returns one combined wrk result per contestant, in order.
    """
    turn = max(1, round(seconds / rounds))
    segments = [[] for _ in contestants]
    for _ in range(rounds):
        for done, (server, script, env) in zip(segments, contestants, strict=True):
            cpu = cpu_seconds(server.process.pid)
            result = wrk(server.url, script, connections=connections, seconds=turn, env=env)
            server.drain()
            # wrk stops with a request outstanding on every connection; the server still serves them.
            served = result["requests"] + connections
            done.append(result | {"cpu_s": cpu_seconds(server.process.pid) - cpu, "served": served})
    return [combine(done) for done in segments]


def cpu_note(named):
    """Return a note of the server CPU time per request and of the rate in each turn, for each `(name, result)`."""
    return "server CPU per request (master + workers): " + ", ".join(
        f"{name} {result['cpu_ms_per_request']:.1f} ms" for name, result in named) + "; 2xx/s turn by turn: " + (
        "; ".join(f"{name} " + " ".join(f"{rate:.0f}" for rate in result.get("turns", ())) for name, result in named))


def metric(server, name, **labels):
    """Return the sum of a counter on the API's /metrics over the samples matching `labels`."""
    total = 0.0
    for line in requests.get(f"{server.url}/metrics", timeout=10).text.splitlines():
        sample, _, value = line.rpartition(" ")
        if sample.split("{")[0] == name and all(f'{k}="{v}"' in sample for k, v in labels.items()):
            total += float(value)
    return total
