"""Health of the service: its dependencies, the queues it consumes, its outbox, each check bounded.

`/health` answers from a report cached per app and process for `HEALTH_CACHE_SECONDS`: one
thread checks while the others wait for its report, and RabbitMQ is read on a kept
connection (`app.broker_probe`), so a burst of requests opens no broker connection.
"""

import threading
import time
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import text

from app.broker_probe import probe_for
from app.extensions import db, redis_client
from app.messaging.contracts import CONSUMED

OUTBOX_SQL = text(
    """
    SELECT count(*) AS backlog, EXTRACT(EPOCH FROM clock_timestamp() - min(created_at)) AS oldest_age_seconds
    FROM outbox_messages WHERE published_at IS NULL
    """
)
_reports_lock = threading.Lock()


def _timed(check):
    """Run `check`; return its status and latency (and error), and what it returned (None when down)."""
    started = time.perf_counter()
    try:
        value = check()
        status, error = "up", None
    except Exception as exc:  # noqa: BLE001 - any failure means the dependency is down
        first_line = next(iter(str(exc).splitlines()), "")
        value, status, error = None, "down", f"{exc.__class__.__name__}: {first_line}"[:200]
    result = {"status": status, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}
    if error:
        result["error"] = error
    return result, value


def check_postgres():
    """Run `SELECT 1` on a pooled connection."""
    with db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def check_redis():
    """PING Redis."""
    redis_client.client.ping()


def check_queues():
    """Return each consumed queue's consumer count and backlog, read on this process's kept connection."""
    config = current_app.config
    return probe_for(config["RABBITMQ_URL"], config["HEALTH_CHECK_TIMEOUT_SECONDS"]).read(CONSUMED)


def check_outbox():
    """Return the outbox's backlog and the age in seconds of its oldest unpublished row (None when empty)."""
    timeout_ms = int(current_app.config["HEALTH_CHECK_TIMEOUT_SECONDS"] * 1000)
    with db.engine.begin() as connection:
        connection.execute(text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": str(timeout_ms)})
        row = connection.execute(OUTBOX_SQL).one()
    age = None if row.oldest_age_seconds is None else round(float(row.oldest_age_seconds), 1)
    return {"backlog": row.backlog, "oldest_age_seconds": age}


def _problems(checks, queues, outbox, lag_seconds):
    problems = [f"{name} is down" for name, check in checks.items() if check["status"] != "up"]
    problems += [f"queue {name} has no consumer" for name, queue in queues.items() if not queue["consumers"]]
    if "error" in outbox:
        problems.append("outbox cannot be read")
    elif (outbox.get("oldest_age_seconds") or 0) > lag_seconds:
        problems.append(
            f"outbox lags: its oldest unpublished event is {outbox['oldest_age_seconds']:g} s old"
            f" (limit {lag_seconds:g} s)"
        )
    return problems


def _outbox_report():
    read, outbox = _timed(check_outbox)
    return outbox or {"error": read["error"]}


def check_health():
    """Check everything now: `healthy`, `degraded` (anything in `problems`) or `unhealthy` (PostgreSQL down)."""
    postgres, _ = _timed(check_postgres)
    redis, _ = _timed(check_redis)
    rabbitmq, queues = _timed(check_queues)
    checks = {"postgres": postgres, "redis": redis, "rabbitmq": rabbitmq}
    report = {"checks": checks, "checked_at": datetime.now(UTC)}
    if queues is not None:
        report["queues"] = queues
    if postgres["status"] == "up":
        report["outbox"] = _outbox_report()
    report["problems"] = _problems(
        checks, report.get("queues", {}), report.get("outbox", {}), current_app.config["OUTBOX_LAG_SECONDS"]
    )
    if postgres["status"] != "up":
        report["status"] = "unhealthy"
    else:
        report["status"] = "degraded" if report["problems"] else "healthy"
    return report


class CachedReport:
    """The last health report, kept `seconds`; one thread checks again while the others wait for it."""

    def __init__(self, seconds):
        self.seconds = seconds
        self._lock = threading.Lock()
        self._report = None
        self._checked = 0.0

    def get(self, check):
        """Return the kept report, or `check()`'s when the kept one is `seconds` old."""
        with self._lock:
            if self._report is None or time.monotonic() - self._checked >= self.seconds:
                self._report = check()
                self._checked = time.monotonic()
            return self._report


def health_report():
    """Return the current app's cached report (see `check_health`)."""
    extensions = current_app.extensions
    with _reports_lock:
        if "health" not in extensions:
            extensions["health"] = CachedReport(current_app.config["HEALTH_CACHE_SECONDS"])
    return extensions["health"].get(check_health)


def readiness_report():
    """Check what the API needs to serve requests: PostgreSQL."""
    postgres, _ = _timed(check_postgres)
    return {"status": "ready" if postgres["status"] == "up" else "not ready", "checks": {"postgres": postgres}}
