"""Cache-aside in Redis for single-ticket reads and event summaries.

A read tries Redis, falls back to the database and stores what it read, unless Redis
holds a tombstone: every committed change writes tombstones over the keys it touched
(after the transaction ends), so a reader that loaded the old row just before the
commit cannot put it back for the tombstone's lifetime; entries also expire on their
own. Redis down: reads go to the database.
"""

import json
import logging

import redis
from flask import current_app

from app import metrics
from app.extensions import db, redis_client
from app.tickets.transaction import after_transaction

log = logging.getLogger(__name__)

TOMBSTONE = b"-"
TOMBSTONE_MS = 2_000
PENDING = "cache_tombstones"  # keys to tombstone when the current transaction ends


def ticket_key(ticket_id):
    """Return the cache key of one ticket."""
    return f"cache:ticket:{ticket_id}"


def summary_key(event_id):
    """Return the cache key of an event's summary."""
    return f"cache:summary:{event_id}"


def cached(cache, key, ttl_seconds, load):
    """Return the JSON-able value under `key`, loading and storing it on a miss.

    `load()` returns the value, or None for "nothing to cache" (not found).
    """
    if not ttl_seconds:
        return load()
    client = redis_client.client
    try:
        raw = client.get(key)
    except redis.RedisError as exc:
        log.warning("cache unavailable, reading the database: %s", exc)
        metrics.CACHE.labels(cache, "error").inc()
        return load()
    if raw is not None and raw != TOMBSTONE:
        metrics.CACHE.labels(cache, "hit").inc()
        return json.loads(raw)
    metrics.CACHE.labels(cache, "miss").inc()
    value = load()
    if raw is None and value is not None:
        try:
            client.set(key, json.dumps(value, default=str), ex=ttl_seconds, nx=True)
        except redis.RedisError as exc:
            log.warning("cache unavailable, not storing: %s", exc)
    return value


def _write_tombstones(keys):
    try:
        with redis_client.client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.set(key, TOMBSTONE, px=TOMBSTONE_MS)
            pipe.execute()
    except redis.RedisError as exc:
        log.warning("cache invalidation failed for %d keys: %s", len(keys), exc)


def invalidate_after_transaction(*, ticket_ids=(), event_ids=()):
    """Invalidate these tickets' and events' entries once the current transaction ends.

    Every invalidation of one transaction (a consumer's batch makes many) goes to Redis in
    one pipeline.
    """
    if not current_app.config["CACHE_TICKET_SECONDS"] and not current_app.config["CACHE_SUMMARY_SECONDS"]:
        return
    keys = [ticket_key(t) for t in ticket_ids] + [summary_key(e) for e in set(event_ids)]
    if not keys:
        return
    info = db.session().info
    if PENDING not in info:
        info[PENDING] = set()
        after_transaction(lambda: _write_tombstones(sorted(info.pop(PENDING, ()))))
    info[PENDING].update(keys)
