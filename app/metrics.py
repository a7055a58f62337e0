"""The product's own Prometheus metrics."""

from prometheus_client import Counter, Histogram

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
HOLDS = Counter("ticket_holds_total", "Hold requests by result.", ["result"])
HOLDS_EXPIRED = Counter("ticket_holds_expired_total", "Tickets whose expired hold the sweeper released.")
