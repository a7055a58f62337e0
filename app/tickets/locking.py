"""Redis locks in front of PostgreSQL's row locks.

The database decides every change (row locks, compare-and-set); the Redis locks in front
keep contending requests for the same tickets from piling up on row locks. They live
behind `redis_locks`, which refuses to run outside a transaction, takes keys in sorted
order with one bounded wait for all of them, gives every lock a TTL, releases them when
the transaction has ended, and turns a lock it cannot get into `Busy`. When Redis
itself fails, the operation goes on with the database's locks alone.

`LOCK_STRATEGY` picks the granularity: `ticket` (one key per ticket; quantity holds take
none and rely on SKIP LOCKED), `event` (one key per event, the original design) or `none`.
"""

import logging
import time

import redis
from flask import current_app

from app import metrics
from app.errors import Busy
from app.extensions import db, redis_client
from app.transaction import after_transaction, in_transaction

log = logging.getLogger(__name__)

POLL_SECONDS = 0.005
HELD = "redis_locks_held"  # the current transaction's locks, by key


def ticket_key(ticket_id):
    """Return the lock key of one ticket."""
    return f"ticket:{ticket_id}"


def event_key(event_id):
    """Return the lock key of a whole event."""
    return f"tickets:event:{event_id}"


def keys_for(*, event_id=None, ticket_ids=()):
    """Return the lock keys the configured strategy wants for work on these tickets.

    `event` takes the event's key when the event is known; `ticket` takes one key per
    ticket, so a quantity hold (no ids yet) takes none; `none` takes none.
    """
    strategy = current_app.config["LOCK_STRATEGY"]
    if strategy == "none":
        return []
    if strategy == "event" and event_id is not None:
        return [event_key(event_id)]
    return [ticket_key(ticket_id) for ticket_id in ticket_ids]


def event_keys(event_id):
    """Return the event-wide key for event-wide work (bulk creation), unless locking is off."""
    return [] if current_app.config["LOCK_STRATEGY"] == "none" else [event_key(event_id)]


def _release(locks):
    for lock in locks:
        try:
            lock.release()
        except redis.exceptions.LockError:
            log.warning("lock %s expired before it was released", lock.name)
        except redis.RedisError as exc:
            log.warning("could not release lock %s: %s", lock.name, exc)


def _held_keys():
    """Return the keys the current transaction holds locks on (released when it ends)."""
    info = db.session().info
    if HELD not in info:
        held = info[HELD] = {}
        after_transaction(lambda: _release(list(info.pop(HELD, held).values())))
    return info[HELD]


def redis_locks(keys, ttl_seconds=None):
    """Hold Redis locks on `keys` until the current transaction ends (or `ttl_seconds`, at most).

    The TTL defaults to `LOCK_TTL_SECONDS`; work that may run longer passes its own. Keys
    the transaction holds already (an earlier message of a consumer's batch) are not taken
    again: the locks belong to the transaction.

    :raises RuntimeError: called outside a transaction.
    :raises Busy: a lock was not had within `LOCK_WAIT_SECONDS`.
    """
    if not in_transaction():
        raise RuntimeError("redis_locks() must be called inside transaction()")
    if not keys:
        return
    config = current_app.config
    started = time.monotonic()
    deadline = started + config["LOCK_WAIT_SECONDS"]
    held = _held_keys()
    try:
        for key in sorted(set(keys) - set(held)):
            ttl = ttl_seconds or config["LOCK_TTL_SECONDS"]
            lock = redis_client.client.lock(key, timeout=ttl, sleep=POLL_SECONDS)
            if not lock.acquire(blocking_timeout=max(deadline - time.monotonic(), 0)):
                metrics.LOCK_BUSY.inc()
                raise Busy("These tickets are being changed by another request; retry shortly.")
            held[key] = lock
    except redis.RedisError as exc:
        metrics.REDIS_FALLBACKS.inc()
        log.warning("Redis locks unavailable, going on with database locks only: %s", exc)
    finally:
        metrics.LOCK_WAIT.labels(config["LOCK_STRATEGY"]).observe(time.monotonic() - started)
