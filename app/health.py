"""Health checks of PostgreSQL, Redis and RabbitMQ, each bounded by a short timeout."""

import time

import pika
from flask import current_app
from sqlalchemy import text

from app.extensions import db, redis_client


def _timed(check):
    started = time.perf_counter()
    try:
        check()
        status, error = "up", None
    except Exception as exc:  # noqa: BLE001 - any failure means the dependency is down
        status, error = "down", f"{exc.__class__.__name__}: {exc}"[:200]
    result = {"status": status, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}
    if error:
        result["error"] = error
    return result


def check_postgres():
    """Run `SELECT 1` on a pooled connection."""
    with db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def check_redis():
    """PING Redis."""
    redis_client.client.ping()


def check_rabbitmq():
    """Open and close a connection to RabbitMQ."""
    timeout = current_app.config["HEALTH_CHECK_TIMEOUT_SECONDS"]
    parameters = pika.URLParameters(current_app.config["RABBITMQ_URL"])
    parameters.socket_timeout = timeout
    parameters.blocked_connection_timeout = timeout
    parameters.connection_attempts = 1
    parameters.stack_timeout = timeout
    pika.BlockingConnection(parameters).close()


def health_report():
    """Check every dependency; `healthy`, `degraded` (Redis or RabbitMQ down) or `unhealthy`."""
    checks = {
        "postgres": _timed(check_postgres),
        "redis": _timed(check_redis),
        "rabbitmq": _timed(check_rabbitmq),
    }
    if checks["postgres"]["status"] != "up":
        overall = "unhealthy"
    elif any(check["status"] != "up" for check in checks.values()):
        overall = "degraded"
    else:
        overall = "healthy"
    return {"status": overall, "checks": checks}


def readiness_report():
    """Check what the API needs to serve requests: PostgreSQL."""
    postgres = _timed(check_postgres)
    return {"status": "ready" if postgres["status"] == "up" else "not ready", "checks": {"postgres": postgres}}
