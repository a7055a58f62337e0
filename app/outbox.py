"""The outbox: what happened, written in the transaction of the change that made it happen.

`record` only adds a row to the transaction; the relay (`app.messaging.relay`) turns
it into the wire messages of the contract sets it goes out in and publishes them after the transaction
has committed, so no event is sent for a change that rolled back and none is lost for
a change that committed. A row says what happened in the domain's words (`kind` and
its facts); beside it go the context of the change: its correlation id, the message
being handled (if a consumer is handling one) and the trace.
"""

import json
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from sqlalchemy import text

from app.context import current_correlation_id, current_message
from app.extensions import db
from app.tracing import inject_context
from app.transaction import after_transaction, before_commit, in_transaction, open_savepoints, rolled_back

INSERT_SQL = text(
    """
    INSERT INTO outbox_messages (message_type, body, headers)
    SELECT kind, CAST(facts AS jsonb), CAST(context AS jsonb)
      FROM unnest(CAST(:kinds AS text[]), CAST(:facts AS text[]), CAST(:contexts AS text[]))
           WITH ORDINALITY AS recorded(kind, facts, context, n)
     ORDER BY n
    """
)
PENDING = "outbox_pending"  # what the current transaction recorded: (savepoints, kind, facts, context)


def _json_value(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID | Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def record(kind, **facts):
    """Record that `kind` happened, with its facts, in the current transaction.

    The rows are written in one statement just before the transaction commits (a
    consumer's batch records many), less those recorded in a savepoint rolled back since.

    :raises RuntimeError: called outside a transaction.
    """
    if not in_transaction():
        raise RuntimeError("outbox.record() must be called inside transaction()")
    context = inject_context({"correlationId": current_correlation_id(), "message": current_message()})
    info = db.session().info
    if PENDING not in info:
        info[PENDING] = []
        before_commit(_write)
        after_transaction(lambda: info.pop(PENDING, None))  # a rollback drops them
    info[PENDING].append((open_savepoints(), str(kind), json.dumps(facts, default=_json_value),
                          json.dumps(context)))


def _write():
    """Insert the rows the transaction recorded and did not roll back."""
    kept = [row for row in db.session().info.pop(PENDING, []) if not rolled_back(row[0])]
    if kept:
        _, kinds, facts, contexts = zip(*kept, strict=True)
        db.session.execute(INSERT_SQL, {"kinds": list(kinds), "facts": list(facts), "contexts": list(contexts)})
