"""Process-wide logging: one JSON object per line, with correlation and trace ids.

Every record carries `time`, `level`, `logger`, `process` (pid), `message`, `correlation_id` (the
request's `X-Correlation-ID` or the message's conversation) and `trace_id` (the current
OpenTelemetry span's), so one search finds a request across the API, the consumers and
the relay.
"""

import logging

from opentelemetry import trace
from pythonjsonlogger.json import JsonFormatter

from app.context import current_correlation_id

FIELDS = ["asctime", "levelname", "name", "process", "message"]
RENAMED = {"asctime": "time", "levelname": "level", "name": "logger"}


class ContextFilter(logging.Filter):
    """Stamp each record with the current correlation id and trace id."""

    def filter(self, record):
        record.correlation_id = current_correlation_id()
        context = trace.get_current_span().get_span_context()
        record.trace_id = format(context.trace_id, "032x") if context.is_valid else None
        return True


def json_handler():
    """Return a stderr handler writing one JSON object per record."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter(FIELDS, rename_fields=RENAMED, datefmt="%Y-%m-%dT%H:%M:%S%z"))
    handler.addFilter(ContextFilter())
    return handler


def configure_logging(level):
    """Log JSON lines to stderr at `level`, once per process; leave test runners' capture alone."""
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        if not root.handlers:
            root.addHandler(json_handler())
        root.setLevel(level)
    logging.getLogger("pika").setLevel(max(logging.WARNING, root.level))
