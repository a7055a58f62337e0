"""Load: wrk runs with the scripts of bench/lua, their results, warm-ups, and turns taken between servers."""

import os
import random
import re
import resource
import signal
import subprocess
import time

import requests
from harness import BENCH
from procfs import cpu_seconds

WARMUP_SECONDS = 2


def _command(url, script, connections, seconds, threads):
    return ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency",
            "-s", script, url]


def _environment(env):
    return os.environ | {"BENCH_SEED": str(random.randrange(2**30))} | (env or {})


def _children_cpu():
    """Return the CPU time (user + system) of this process's children that have ended so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk(url, script, *, connections, seconds, threads=2, env=None):
    """Run wrk with a script of bench/lua; return the numbers of its RESULT line."""
    cpu = _children_cpu()
    output = subprocess.run(_command(url, script, connections, seconds, threads), cwd=BENCH / "lua",
                            env=_environment(env), capture_output=True, text=True, check=True,
                            timeout=seconds + 60).stdout
    return _parse(output) | {"wrk_cpu_s": _children_cpu() - cpu}


def wrk_until(url, script, finished, *, connections, seconds, threads=2, env=None, poll_seconds=0.2):
    """Run wrk for at most `seconds`, stopped early once `finished()` is true; return its result.

    `finished` is called every `poll_seconds`. wrk stops on SIGINT as at the end of its
    duration: it reports what it saw, and `seconds` in the result is how long it ran.
    """
    cpu = _children_cpu()
    process = subprocess.Popen(_command(url, script, connections, seconds, threads), cwd=BENCH / "lua",
                               env=_environment(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while process.poll() is None and not finished():
            time.sleep(poll_seconds)
        process.send_signal(signal.SIGINT)
        output, errors = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, process.args, output, errors)
    return _parse(output) | {"wrk_cpu_s": _children_cpu() - cpu}


def _parse(output):
    """Return the numbers of wrk's RESULT line and the other statuses of its OTHER line."""
    lines = output.splitlines()
    line = next(line for line in lines if line.startswith("RESULT"))
    other = next((line.split()[1:] for line in lines if line.startswith("OTHER")), [])
    result = {key: float(value) for key, value in re.findall(r"(\w+)=([\d.]+)", line)}
    return _rates(result | {"statuses": {int(code): int(count) for code, count in (s.split("x") for s in other)}})


def combine(results):
    """Add up wrk results of several segments: counts and seconds add, p50 is request-weighted, p99 the worst."""
    counts = ("requests", "ok", "refused", "other", "socket_errors", "seconds", "cpu_s", "served", "wrk_cpu_s")
    total = {key: sum(result.get(key, 0) for result in results) for key in counts}
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


def warm_up(contestants, *, seconds=WARMUP_SECONDS, connections=64):
    """Drive each contestant `(server, script, env)` alone for `seconds`; return the wrk results, in order.

    A server's first requests cost more than the next ones: each worker's first database
    and Redis connections, its first writes to the pages it shares with the gunicorn
    master, SQLAlchemy's statement cache, the API's cache, PostgreSQL's buffers. Every
    contestant, baseline included, gets the same warm-up before anything is measured, and
    works off the requests wrk left queued before the next one starts.
    """
    results = []
    for server, script, env in contestants:
        results.append(wrk(server.url, script, connections=connections, seconds=seconds, env=env))
        server.drain()
    return results


def interleave(contestants, *, seconds, rounds=3, connections=64, warmup=WARMUP_SECONDS):
    """Drive each contestant `(server, script, env)` for `seconds` in all, in `rounds` turns taken in rotation.

    First every contestant gets `warmup` seconds of the same load (`warm_up`; 0 for none).
    The machine is shared: taking turns spreads any outside load over every contestant
    alike. After each turn the server works off the requests wrk left queued before the
    next turn starts. Returns one combined wrk result of the turns per contestant, in
    order; its `with_warmup` adds the warm-up: every answer the server gave, for the
    invariants (its `turns` has one entry a wrk run).
    """
    warm = [[result] for result in warm_up(contestants, seconds=warmup, connections=connections)] if warmup else [
        [] for _ in contestants]
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
    return [combine(done) | {"with_warmup": combine(before + done)}
            for before, done in zip(warm, segments, strict=True)]


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
