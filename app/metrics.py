"""Prometheus metrics: HTTP metrics of the API, and the product's own.

Under gunicorn the API runs in multiprocess mode: `PROMETHEUS_MULTIPROC_DIR` is set
before Python starts (deploy/gunicorn.conf.py wipes it at start and marks dead workers),
and `/metrics` adds up every worker. The consumers, the relay and the sweeper serve
their own metrics on `METRICS_PORT`.
"""

import os

from prometheus_client import Counter, Gauge, Histogram, start_http_server
from prometheus_flask_exporter import PrometheusMetrics
from prometheus_flask_exporter.multiprocess import GunicornInternalPrometheusMetrics

LOCK_WAIT = Histogram(
    "ticket_lock_wait_seconds",
    "Time spent taking Redis locks before touching the database.",
    ["strategy"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
LOCK_BUSY = Counter("ticket_lock_busy_total", "Requests refused because a Redis lock was not had in time.")
REDIS_FALLBACKS = Counter(
    "ticket_redis_fallbacks_total", "Operations that went on with database locks alone because Redis failed."
)
TICKETS_CREATED = Counter("ticket_tickets_created_total", "Tickets created.", ["source"])
HOLDS = Counter("ticket_holds_total", "Hold requests by result.", ["result"])
RESERVATIONS = Counter("ticket_reservations_total", "Reservation requests by result.", ["result"])
RELEASES = Counter("ticket_releases_total", "Release requests by result.", ["result"])
HOLDS_EXPIRED = Counter("ticket_holds_expired_total", "Tickets whose expired hold the sweeper released.")
RETENTION_PRUNED = Counter(
    "ticket_retention_pruned_total", "Outbox and inbox rows deleted once past their retention.", ["table"]
)
CACHE = Counter("ticket_cache_requests_total", "Cache lookups by cache and result.", ["cache", "result"])
CONSUMED = Counter("ticket_consumer_messages_total", "Messages handled by queue and result.", ["queue", "result"])
OUTBOX_BACKLOG = Gauge(
    "ticket_outbox_backlog", "Events written to the outbox and not yet published.", multiprocess_mode="livemax"
)
OUTBOX_PUBLISHED = Counter("ticket_outbox_published_total", "Events the broker confirmed.")
PUBLISH_LATENCY = Histogram(
    "ticket_outbox_publish_latency_seconds",
    "Time from an event's write to the outbox to the broker's confirm.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)


def http_metrics():
    """Return the HTTP metrics extension: multiprocess under gunicorn, in-process otherwise."""
    options = {"group_by": "endpoint", "excluded_paths": ["^/metrics$", "^/swagger", "^/openapi.json$"]}
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        return GunicornInternalPrometheusMetrics.for_app_factory(**options)
    return PrometheusMetrics.for_app_factory(**options)


def serve_process_metrics(port):
    """Serve this process's metrics on `port` (0: not at all)."""
    if port:
        start_http_server(port)
