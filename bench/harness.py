"""What every benchmark needs: a database of its own, servers on free ports, wrk.

Everything a run makes is named after its process id, so runs on one machine never
share a database, a vhost, a scratch directory or a Redis key: the database is
`tickets_bench_<pid>` (or `BENCH_DATABASE_URL`'s name plus `_<pid>`), event ids start at
`<pid> * 1000`, servers take the first free port of 8180-8190 and listen on 127.0.0.1.
`BENCH_APP_ROOT` points the benchmarks at another checkout of the service (default: this one).
"""

import contextlib
import ctypes
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

BENCH = Path(__file__).resolve().parent
ROOT = Path(os.environ.get("BENCH_APP_ROOT") or BENCH.parent).resolve()
sys.path.insert(0, str(ROOT))

from report import print_rows  # noqa: E402

from app.commands import create_database, drop_database  # noqa: E402

RUN_ID = os.getpid()
PORTS = range(8180, 8191)
WORKERS = 4  # deploy/gunicorn.conf.py's default on 2 cores (2 x nproc)
SCRATCH = Path(tempfile.gettempdir()) / f"bench-{RUN_ID}"
_BASE_URL = make_url(
    os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/tickets_bench")
)
_events = itertools.count(RUN_ID * 1000)


def database_url(suffix=""):
    """Return this run's database URL (SQLAlchemy form)."""
    name = f"{_BASE_URL.database}_{RUN_ID}{'_' + suffix if suffix else ''}"
    return _BASE_URL.set(database=name).render_as_string(hide_password=False)


def server_url():
    """Return the URL of the PostgreSQL server's `postgres` database (SQLAlchemy form)."""
    return _BASE_URL.set(database="postgres").render_as_string(hide_password=False)


def libpq_url(url):
    """Return a SQLAlchemy URL in the form psql and psycopg2 take."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def new_event_id():
    """Return an event id no other run uses (Redis lock and cache keys are shared)."""
    return next(_events)


def scratch(name):
    """Return a path in this run's scratch directory."""
    SCRATCH.mkdir(parents=True, exist_ok=True)
    return SCRATCH / name


def remove_scratch():
    """Delete this run's scratch directory (server logs and the like), unless BENCH_KEEP_LOGS is set."""
    if os.environ.get("BENCH_KEEP_LOGS"):
        print(f"logs kept in {SCRATCH}", file=sys.stderr)
    else:
        shutil.rmtree(SCRATCH, ignore_errors=True)


@contextlib.contextmanager
def bench_database(suffix=""):
    """Create and migrate a database of this run; drop it afterwards. Yield an engine."""
    url = database_url(suffix)
    drop_database(url)
    create_database(url)
    env = os.environ | {"DATABASE_URL": url, "FLASK_APP": "wsgi"}
    try:
        subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                       capture_output=True, timeout=120)
        engine = create_engine(url, pool_size=2, pool_pre_ping=True)
        try:
            yield engine
        finally:
            engine.dispose()
    finally:
        drop_database(url)


def url_of(engine):
    """Return the URL of the engine's database, password included."""
    return engine.url.render_as_string(hide_password=False)


def scalar(engine, sql, **params):
    """Run one query and return its single value."""
    with engine.connect() as connection:
        return connection.execute(text(sql), params).scalar_one()


def one_row(engine, sql, **params):
    """Run one query and return its single row."""
    with engine.connect() as connection:
        return connection.execute(text(sql), params).one()


def execute(engine, sql, **params):
    """Run one statement in its own transaction."""
    with engine.begin() as connection:
        connection.execute(text(sql), params)


def create_event(engine, tickets):
    """Insert an event of `tickets` Available tickets straight into the database; return its id."""
    event_id = new_event_id()
    execute(engine, "INSERT INTO tickets (event_id) SELECT :e FROM generate_series(1, :n)", e=event_id, n=tickets)
    execute(engine, "ANALYZE tickets")
    return event_id


def write_ids(engine, event_id, name):
    """Write the event's ticket ids to a scratch file, one a line (for the wrk scripts); return its path."""
    path = scratch(name)
    with engine.connect() as connection:
        ids = connection.execute(text("SELECT id FROM tickets WHERE event_id = :e ORDER BY id"), {"e": event_id})
        path.write_text("".join(f"{row.id}\n" for row in ids))
    return path


def _die_with_parent():
    """Have the kernel SIGTERM this child when the benchmark process dies, however it dies."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def spawn(command, *, env, log):
    """Start a child process in `ROOT`, its output going to the scratch file `log`."""
    with open(scratch(log), "ab") as output:
        return subprocess.Popen(command, cwd=ROOT, env=os.environ | env, stdout=output, stderr=subprocess.STDOUT,
                                preexec_fn=_die_with_parent)  # noqa: PLW1509 - no threads run at this point


def stop(process, timeout=30):
    """SIGTERM a child process and wait for it; SIGKILL it if it will not go."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _port_is_free(port):
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class Server:
    """A gunicorn server of this run."""

    name: str
    url: str
    process: subprocess.Popen
    log: Path
    ready_path: str

    def drain(self):
        """Wait until the requests queued before this call have been served (a probe queues behind them)."""
        requests.get(self.url + self.ready_path, timeout=60)

    def log_text(self):
        """Return what the server has logged so far."""
        return self.log.read_text(errors="replace")


def _wait_ready(process, url, log):
    """Wait until `url` answers; return False if the port was taken meanwhile."""
    for _ in range(300):
        if process.poll() is not None:
            tail = scratch(log).read_text(errors="replace")[-2000:]
            if "in use" in tail:
                return False
            raise RuntimeError(f"{url} exited with {process.returncode}:\n{tail}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=1).ok:
                return True
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in 30 s; see {scratch(log)}")


@contextlib.contextmanager
def _gunicorn(name, command, env, ready_path):
    """Start gunicorn on the first free port of 8180-8190 (the next one if another run took it)."""
    for port in (port for port in PORTS if _port_is_free(port)):
        url, log = f"http://127.0.0.1:{port}", f"{name}-{port}.log"
        process = spawn([*command, "--bind", f"127.0.0.1:{port}"], env=env | {"PORT": str(port)}, log=log)
        try:
            if _wait_ready(process, url + ready_path, log):
                yield Server(name, url, process, scratch(log), ready_path)
                return
        finally:
            stop(process)
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1} for {name}")


def api(database, *, workers=WORKERS, env=None, name="api"):
    """Run the service's API under gunicorn with its deploy config; a context manager yielding a Server.

    As deployed (metrics in multiprocess mode, INFO logs) except: no access log, and no rate
    limit on creation (its Redis keys are per client address, shared by every run on this host).
    """
    environment = {
        "DATABASE_URL": database,
        "HOST": "127.0.0.1",
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_ACCESS_LOG": "",
        "RATELIMIT_ENABLED": "false",
        "PROMETHEUS_MULTIPROC_DIR": str(scratch(f"{name}-metrics")),
    } | (env or {})
    command = [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py", "wsgi:app"]
    return _gunicorn(name, command, environment, "/health/live")


def baseline(database, *, workers=WORKERS, name="baseline"):
    """Run bench/baseline_app.py under gunicorn with the API's worker count and class."""
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--no-control-socket",
               "--chdir", str(BENCH), "baseline_app:app"]
    return _gunicorn(name, command, {"BASELINE_DSN": libpq_url(database)}, "/ping")


def standalone(run, parser):
    """Run one scenario and print its rows (a script's `main`)."""
    args = parser.parse_args()
    try:
        rows = run(args)
        print_rows(rows)
    finally:
        remove_scratch()
    sys.exit(0 if all(row.passed is not False for row in rows) else 1)
