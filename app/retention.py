"""Retention: published outbox rows and inbox rows are deleted once they are old enough.

A published outbox row is kept for `OUTBOX_RETENTION_SECONDS` after the broker confirmed
it, an inbox row for `INBOX_RETENTION_SECONDS` after its message was applied; unpublished
outbox rows and the audit trail (`ticket_status_changes`) are never deleted. While its
inbox row exists a redelivered message is still refused, so the inbox's retention must
outlast any redelivery (config.py checks it against the outbox's and one day).

Each batch is one short transaction that locks its rows with FOR UPDATE SKIP LOCKED, so
several sweepers prune side by side, each deleting other rows, and none waits for another.
The batch's row addresses (ctid) are gathered into an array first, so the DELETE finds
them by address; `IN (SELECT ...)` would scan the whole table once per batch. A locked row
cannot move, so its address holds until the DELETE.
"""

from sqlalchemy import text

from app import metrics
from app.extensions import db
from app.transaction import transaction

PRUNE_SQL = {
    "outbox_messages": text(
        """
        DELETE FROM outbox_messages WHERE ctid = ANY(ARRAY(
            SELECT ctid FROM outbox_messages
             WHERE published_at IS NOT NULL AND published_at < now() - make_interval(secs => :retention_seconds)
             ORDER BY published_at
             LIMIT :batch_size
               FOR UPDATE SKIP LOCKED
        ))
        """
    ),
    "inbox_messages": text(
        """
        DELETE FROM inbox_messages WHERE ctid = ANY(ARRAY(
            SELECT ctid FROM inbox_messages
             WHERE received_at < now() - make_interval(secs => :retention_seconds)
             ORDER BY received_at
             LIMIT :batch_size
               FOR UPDATE SKIP LOCKED
        ))
        """
    ),
}


def prune_batch(*, table, retention_seconds, batch_size):
    """Delete up to `batch_size` rows of `table` past their retention, in one transaction; return how many.

    :raises Busy: a table lock was not granted within `lock_timeout` (a migration holds it).
    :raises ServiceUnavailable: the database is unreachable or timed out.
    """
    with transaction():
        parameters = {"retention_seconds": retention_seconds, "batch_size": batch_size}
        deleted = db.session.execute(PRUNE_SQL[table], parameters).rowcount
    metrics.RETENTION_PRUNED.labels(table=table).inc(deleted)
    return deleted


def prune_table(*, table, retention_seconds, batch_size, stop=lambda: False):
    """Delete every row of `table` past its retention, a batch at a time; return how many.

    `stop` is asked between batches: once it says True the rest waits for the next pass.

    :raises Busy: a table lock was not granted within `lock_timeout` (a migration holds it).
    :raises ServiceUnavailable: the database is unreachable or timed out.
    """
    pruned = 0
    while not stop():
        deleted = prune_batch(table=table, retention_seconds=retention_seconds, batch_size=batch_size)
        pruned += deleted
        if deleted < batch_size:
            break
    return pruned


def prune_messages(*, outbox_retention_seconds, inbox_retention_seconds, batch_size, stop=lambda: False):
    """Delete the published outbox rows and the inbox rows past their retention; return `{table: rows}`.

    :raises Busy: a table lock was not granted within `lock_timeout` (a migration holds it).
    :raises ServiceUnavailable: the database is unreachable or timed out.
    """
    retention = {"outbox_messages": outbox_retention_seconds, "inbox_messages": inbox_retention_seconds}
    return {
        table: prune_table(table=table, retention_seconds=seconds, batch_size=batch_size, stop=stop)
        for table, seconds in retention.items()
    }
