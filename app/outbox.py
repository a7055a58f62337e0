"""The outbox: what happened, written in the transaction of the change that made it happen.

`record` only inserts a row; the relay (`app.messaging.relay`) turns it into the wire
messages of the contract sets it goes out in and publishes them after the transaction
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

INSERT_SQL = text(
    """
    INSERT INTO outbox_messages (message_type, body, headers)
    VALUES (:kind, CAST(:facts AS jsonb), CAST(:context AS jsonb))
    """
)


def _json_value(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID | Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def record(kind, **facts):
    """Record that `kind` happened, with its facts, in the current transaction."""
    context = inject_context({"correlationId": current_correlation_id(), "message": current_message()})
    db.session.execute(INSERT_SQL, {
        "kind": kind,
        "facts": json.dumps(facts, default=_json_value),
        "context": json.dumps(context),
    })
