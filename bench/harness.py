"""What every benchmark needs: a database of its own, the API under gunicorn, wrk."""

import contextlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.commands import create_database, drop_database  # noqa: E402

BENCH_DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/tickets_bench"
)


@contextlib.contextmanager
def bench_database():
    """Create and migrate the benchmark database; drop it afterwards. Yield an engine."""
    drop_database(BENCH_DATABASE_URL)
    create_database(BENCH_DATABASE_URL)
    env = os.environ | {"DATABASE_URL": BENCH_DATABASE_URL, "FLASK_APP": "wsgi"}
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    engine = create_engine(BENCH_DATABASE_URL)
    try:
        yield engine
    finally:
        engine.dispose()
        drop_database(BENCH_DATABASE_URL)


@contextlib.contextmanager
def gunicorn(port=8099, workers=4, env=None):
    """Run the API under gunicorn; yield its base URL."""
    environment = os.environ | {
        "DATABASE_URL": BENCH_DATABASE_URL,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_ACCESS_LOG": "",
    } | (env or {})
    command = [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py", "wsgi:app"]
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{base_url}/health/live", timeout=1).ok:
                    break
            time.sleep(0.1)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=30)


def wrk(base_url, script, *, connections, seconds, threads=2, env=None):
    """Run wrk with a Lua script; return the numbers its `done` hook printed."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s",
               str(ROOT / "bench" / "lua" / script), base_url]
    output = subprocess.run(command, env=os.environ | (env or {}), capture_output=True, text=True,
                            check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT"))
    return {key: float(value) for key, value in re.findall(r"(\w+)=([\d.]+)", line)}


def scalar(engine, sql, **params):
    """Run one query and return its single value."""
    with engine.connect() as connection:
        return connection.execute(text(sql), params).scalar_one()
