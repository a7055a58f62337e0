"""The inbox: which messages each consumer has applied, written in the same transaction."""

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from app.extensions import db

IDS = ARRAY(UUID(as_uuid=True))
CLAIM_SQL = text(
    """
    INSERT INTO inbox_messages (consumer, message_id) VALUES (:consumer, :message_id)
    ON CONFLICT DO NOTHING
    RETURNING message_id
    """
)
CLAIM_MANY_SQL = text(
    """
    INSERT INTO inbox_messages (consumer, message_id)
    SELECT :consumer, message_id FROM unnest(:message_ids) AS message_id ORDER BY message_id
    ON CONFLICT DO NOTHING
    RETURNING message_id
    """
).bindparams(bindparam("message_ids", type_=IDS))
RELEASE_SQL = text(
    "DELETE FROM inbox_messages WHERE consumer = :consumer AND message_id = ANY(:message_ids)"
).bindparams(bindparam("message_ids", type_=IDS))


def claim(*, consumer, message_id):
    """Record the message as applied by `consumer`; return False if it already was.

    A concurrent copy of the same message waits on the row until the first commits
    (then this returns False) or rolls back (then this claims it).
    """
    return db.session.execute(CLAIM_SQL, {"consumer": consumer, "message_id": message_id}).first() is not None


def claim_many(*, consumer, message_ids):
    """Record the messages as applied by `consumer`, in one statement; return the ids that were not already.

    Rows are claimed in id order, so two consumers claiming overlapping batches wait on
    each other instead of deadlocking.
    """
    params = {"consumer": consumer, "message_ids": sorted(set(message_ids))}
    return set(db.session.scalars(CLAIM_MANY_SQL, params))


def release(*, consumer, message_ids):
    """Take back claims made in the current transaction: those messages were not applied after all."""
    db.session.execute(RELEASE_SQL, {"consumer": consumer, "message_ids": list(message_ids)})
