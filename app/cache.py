"""Cache-aside in Redis for single-ticket reads, event summaries and sold-out answers.

A read tries Redis, falls back to the database and stores what it read, unless Redis
holds a tombstone: every committed change writes tombstones over the keys it touched
(after the transaction ends), so a reader that loaded the old row just before the
commit cannot put it back for the tombstone's lifetime; entries also expire on their
own. Redis down: reads go to the database.

The sold-out answer of an event is the number of its free seats that a quantity hold
found too few; later holds asking for more are refused from it, without the database.
Every committed change that frees seats of the event tombstones it, and it lives
`SOLD_OUT_SECONDS` at most, so a seat freed without a commit (a hold running out) is offered again within
that time. A booking that holds seats of the event is marked beside it (for its hold's
lifetime): its repeated hold goes to the database, which returns the seats it holds.
A process asks Redis for the answer only about events it has seen refuse a hold in the
last minute, so holds of an event on sale cost no Redis round trip for it.
"""

import json
import logging
import time

import redis
from flask import current_app

from app import metrics
from app.extensions import db, redis_client
from app.transaction import after_commit, after_transaction, in_transaction

log = logging.getLogger(__name__)

TOMBSTONE = b"-"
TOMBSTONE_MS = 2_000
PENDING = "cache_tombstones"  # keys to tombstone when the current transaction ends
REFUSALS_REMEMBERED_SECONDS = 60
MAX_REFUSALS_REMEMBERED = 10_000
SET_EACH = "for i, key in ipairs(KEYS) do redis.call('SET', key, ARGV[2 * i - 1], 'PX', ARGV[2 * i]) end"
_refused = {}  # (event id, category) -> time.monotonic() of the last refused quantity hold this process saw


def ticket_key(ticket_id):
    """Return the cache key of one ticket."""
    return f"cache:ticket:{ticket_id}"


def summary_key(event_id):
    """Return the cache key of an event's summary."""
    return f"cache:summary:{event_id}"


def free_key(event_id, category=None):
    """Return the key of an event's sold-out answer: how many of its seats (of a category) were free."""
    return f"cache:free:{event_id}" if category is None else f"cache:free:{event_id}:{category}"


def holder_key(event_id, booking_id):
    """Return the key that marks a booking as holding seats of the event."""
    return f"cache:holder:{event_id}:{booking_id}"


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


def _write(entries):
    """Write `{key: (value, milliseconds)}` with one script: one command, one round trip (cheaper than a pipeline)."""
    keys = sorted(entries)
    try:
        redis_client.client.register_script(SET_EACH)(keys=keys, args=[part for key in keys for part in entries[key]])
    except redis.RedisError as exc:
        log.warning("cache invalidation failed for %d keys: %s", len(entries), exc)


def _after_transaction(entries):
    """Write these entries once the current transaction ends, with every other of the transaction.

    A consumer's batch makes many: they go to Redis in one call.
    """
    info = db.session().info
    if PENDING not in info:
        info[PENDING] = {}
        after_transaction(lambda: _write(info.pop(PENDING, {})))
    info[PENDING].update(entries)


def _enabled():
    config = current_app.config
    return bool(config["CACHE_TICKET_SECONDS"] or config["CACHE_SUMMARY_SECONDS"] or config["SOLD_OUT_SECONDS"])


def invalidate_after_transaction(*, ticket_ids=(), event_ids=(), frees_seats=False, categories=()):
    """Invalidate these tickets' and events' entries once the current transaction ends.

    A change that `frees_seats` (a release, an expiry, new tickets) invalidates the events'
    sold-out answers too, the whole event's and those of the freed seats' `categories`;
    others (a hold, a sale) leave fewer seats free, which the answer never overstates.
    """
    if not _enabled():
        return
    events = set(event_ids)
    keys = [ticket_key(t) for t in ticket_ids] + [summary_key(e) for e in events]
    if frees_seats:
        keys += [free_key(e, c) for e in events for c in (None, *categories)]
    if keys:
        _after_transaction(dict.fromkeys(keys, (TOMBSTONE, TOMBSTONE_MS)))


def mark_holder_after_transaction(*, event_id, booking_id, seconds):
    """Mark the booking as holding seats of the event for `seconds`, once the current transaction ends."""
    if current_app.config["SOLD_OUT_SECONDS"]:
        _after_transaction({holder_key(event_id, booking_id): (b"1", max(1, int(seconds * 1000)))})


def known_free(event_id, booking_id, category=None):
    """Return how many seats of the event (of the category) a refused hold found free, if Redis remembers; else None.

    None as well when the booking holds seats of the event (the database answers it), when
    the answer is off (`SOLD_OUT_SECONDS=0`) or when Redis cannot be reached.
    """
    if not current_app.config["SOLD_OUT_SECONDS"]:
        return None
    refused_at = _refused.get((event_id, category))
    if refused_at is None or time.monotonic() - refused_at > REFUSALS_REMEMBERED_SECONDS:
        return None
    try:
        free, holder = redis_client.client.mget(free_key(event_id, category), holder_key(event_id, booking_id))
    except redis.RedisError as exc:
        log.warning("sold-out answers unavailable, asking the database: %s", exc)
        return None
    if free is None or free == TOMBSTONE or holder is not None:
        return None
    return int(free)


def remember_free(event_id, free, category=None):
    """Remember that only `free` seats of the event (of the category) were free, unless tombstoned since.

    Inside a transaction (a consumer's batch), the count may include the transaction's own
    holds: it is stored once that transaction has committed, and not at all if it rolls back.
    """
    seconds = current_app.config["SOLD_OUT_SECONDS"]
    if not seconds:
        return
    if len(_refused) >= MAX_REFUSALS_REMEMBERED:
        _refused.clear()
    _refused[event_id, category] = time.monotonic()
    milliseconds = int(seconds * 1000)

    def store():
        try:
            redis_client.client.set(free_key(event_id, category), free, px=milliseconds, nx=True)
        except redis.RedisError as exc:
            log.warning("sold-out answer not stored: %s", exc)

    if in_transaction():
        after_commit(store)
    else:
        store()
