"""The inbox: which messages each consumer has applied, written in the same transaction."""

from sqlalchemy import text

from app.extensions import db

CLAIM_SQL = text(
    """
    INSERT INTO inbox_messages (consumer, message_id) VALUES (:consumer, :message_id)
    ON CONFLICT DO NOTHING
    RETURNING message_id
    """
)


def claim(*, consumer, message_id):
    """Record the message as applied by `consumer`; return False if it already was.

    A concurrent copy of the same message waits on the row until the first commits
    (then this returns False) or rolls back (then this claims it).
    """
    return db.session.execute(CLAIM_SQL, {"consumer": consumer, "message_id": message_id}).first() is not None
