"""gunicorn settings for the API; every value can be overridden from the environment.

Metrics: with `PROMETHEUS_MULTIPROC_DIR` set (before Python starts), each worker writes
its metrics there and `/metrics` adds them up; the directory is emptied at start and a
dead worker's files are marked dead. Traces: each worker makes its tracer provider
after the fork. Logs: gunicorn's own records go out as JSON lines like the app's.
"""

import multiprocessing
import os
import shutil

from gunicorn import glogging

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8082')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# Longer than DB_STATEMENT_TIMEOUT_MS (60 s), so a slow statement ends in a 503 the client
# receives rather than a killed worker.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "90"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# The app is imported once in the master and shared copy-on-write; each worker drops the
# master's database connections (none are opened before the fork) and makes its own.
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").lower() in ("1", "true", "yes", "on")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None


class Logger(glogging.Logger):
    """gunicorn's logger, building access records only when GUNICORN_ACCESS_LOG asks for them.

    With a logging config (logconfig_dict, below) gunicorn builds every request's record,
    only for the muted `gunicorn.access` logger to drop it: a cost on every request.
    """

    def access(self, resp, req, environ, request_time):
        """Log the request, if access logging is on."""
        if accesslog:
            super().access(resp, req, environ, request_time)


logger_class = Logger
# The control socket is one fixed path per user; several API instances on one host would clash.
control_socket_disable = True

# Start with an empty metrics directory; it must exist before the app is imported.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"])

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "app.logs.ContextFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": ["asctime", "levelname", "name", "process", "message"],
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
        }
    },
    "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["context"]}},
    "root": {"level": os.environ.get("LOG_LEVEL", "INFO").upper(), "handlers": ["json"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["json"], "propagate": False},
        # With logconfig_dict gunicorn always emits access records; GUNICORN_ACCESS_LOG="" mutes them here.
        "gunicorn.access": {"level": "INFO" if accesslog else "CRITICAL", "handlers": ["json"], "propagate": False},
    },
}


def post_fork(server, worker):
    """Give each worker its own database pool and tracer provider."""
    from app.extensions import db  # noqa: PLC0415 - after the fork, in the worker
    from app.tracing import configure_tracing  # noqa: PLC0415

    if preload_app:
        with server.app.wsgi().app_context():
            db.engine.dispose(close=False)
    configure_tracing("api")


def child_exit(server, worker):
    """Mark a dead worker's metrics files, so its gauges stop counting."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess  # noqa: PLC0415

        multiprocess.mark_process_dead(worker.pid)
