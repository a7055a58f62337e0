"""Where the API's workers spend their CPU under one scenario's load, sampled with py-spy.

    .venv/bin/pip install py-spy          # not a requirement of the service
    .venv/bin/python bench/profile.py {hold_quantity,hold_ids,read_one} [--seconds 10] [--top 25] [--wall]

Starts the API on a database of this run, drives it with the scenario's wrk script (64
connections) while `py-spy record --gil` samples every worker holding the GIL (running
Python: a worker waiting on PostgreSQL or Redis has released it and is not sampled),
then prints the share of samples by the layer the innermost frame belongs to, and the
functions most often on the stack. `--wall` samples every worker all the time instead
(waits included), to see where a request's time goes.
"""

import argparse
import collections
import contextlib
import re
import subprocess
import sys
from pathlib import Path

from harness import api, bench_database, create_event, remove_scratch, scratch, url_of, write_ids
from load import wrk

SITE = r"site-packages/"
LAYERS = (  # first match on the innermost frame's file wins
    ("psycopg2 / libpq", SITE + r"psycopg2/|sqlalchemy/dialects/postgresql/"),
    ("SQLAlchemy", SITE + r"(sqlalchemy|flask_sqlalchemy)/"),
    ("OpenTelemetry", SITE + r"opentelemetry/"),
    ("prometheus", SITE + r"prometheus"),
    ("marshmallow / flask-smorest / apispec", SITE + r"(marshmallow|flask_smorest|apispec|webargs)/"),
    ("redis-py", SITE + r"redis/"),
    ("Flask / Werkzeug / Limiter", SITE + r"(flask|werkzeug|flask_limiter|limits|jinja2|click)/"),
    ("JSON logs", SITE + r"pythonjsonlogger/|/logging/"),
    ("gunicorn", SITE + r"gunicorn/"),
    ("pika", SITE + r"pika/"),
    ("the service (app/, config.py)", r"/app/|/config\.py"),
    ("Python stdlib", r"/lib/python3\.\d+/(?!site-packages/)|<frozen |<string>"),
)


def _frames(stack):
    return [frame for frame in stack.split(";") if frame and not frame.startswith("process ")]


def _layer(frame):
    return next((name for name, pattern in LAYERS if re.search(pattern, frame)), "other")


def _short(frame):
    """Return the frame without its line number and with its path from the package on."""
    return re.sub(r"\(.*(site-packages|lib/python3\.\d+|/work/[^/]+)/", "(", re.sub(r":\d+\)", ")", frame))


def summarize(raw, top):
    """Print the share of samples by layer (innermost frame) and the functions most on the stack."""
    layers, inclusive, innermost, total = collections.Counter(), collections.Counter(), collections.Counter(), 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = _frames(stack)
        if not frames:
            continue
        samples = int(count)
        total += samples
        layers[_layer(frames[-1])] += samples
        innermost[_short(frames[-1])] += samples
        for function in {_short(frame) for frame in frames}:
            inclusive[function] += samples
    print(f"{total} samples\n\nby layer of the innermost frame:")
    for name, samples in layers.most_common():
        print(f"  {samples / total:6.1%}  {name}")
    print("\ninnermost functions (self):")
    for function, samples in innermost.most_common(top // 2):
        print(f"  {samples / total:6.1%}  {function}")
    print("\nfunctions on the stack (inclusive):")
    for function, samples in inclusive.most_common(top):
        print(f"  {samples / total:6.1%}  {function}")


def main():
    """Profile the API under one scenario's load."""
    options = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument("script", choices=("hold_quantity", "hold_ids", "read_one"))
    options.add_argument("--seconds", type=int, default=10)
    options.add_argument("--top", type=int, default=25)
    options.add_argument("--wall", action="store_true",
                         help="sample wall-clock time (waits on PostgreSQL and Redis included), not the GIL holder")
    args = options.parse_args()
    raw = scratch("profile.txt")
    try:
        with bench_database() as engine:
            event_id = create_event(engine, 100_000 if args.script == "hold_quantity" else 10_000)
            env = {"EVENT_ID": str(event_id), "IDS_FILE": str(write_ids(engine, event_id, "profile.ids"))}
            with api(url_of(engine)) as server:
                command = [str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(server.process.pid),
                           "--subprocesses", "--idle" if args.wall else "--gil", "--full-filenames",
                           "--format", "raw", "--rate", "200", "--duration", str(args.seconds), "--nonblocking",
                           "-o", str(raw)]
                spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                with contextlib.suppress(subprocess.CalledProcessError):
                    wrk(server.url, f"{args.script}.lua", connections=64, seconds=args.seconds, env=env)
                spy.wait(timeout=args.seconds + 60)
        summarize(raw, args.top)
    finally:
        remove_scratch()


if __name__ == "__main__":
    main()
