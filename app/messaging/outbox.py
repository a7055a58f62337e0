"""The outbox: events written in the transaction of the change that causes them.

`publish` only inserts a row; the relay (`app.messaging.relay`) sends it to RabbitMQ
after the transaction has committed, so no event is sent for a change that rolled back
and none is lost for a change that committed.
"""

import json
import uuid

from flask import current_app
from sqlalchemy import text

from app.context import current_correlation_id
from app.extensions import db
from app.messaging.topology import message_type_urn
from app.tracing import inject_context

INSERT_SQL = text(
    """
    INSERT INTO outbox_messages (message_id, message_type, body, headers)
    VALUES (:message_id, :message_type, CAST(:body AS jsonb), CAST(:headers AS jsonb))
    """
)


def publish(contract, **values):
    """Queue one event of type `contract` for publishing, in the current transaction.

    Its `CorrelationId` is the booking id where there is one; its `ConversationId` is
    the conversation of the request or message being handled; its `traceparent`
    continues the current trace.
    """
    message_id = uuid.uuid4()
    body = contract.render(**values)
    conversation = current_correlation_id() or str(message_id)
    headers = inject_context({
        "MT-MessageType": message_type_urn(current_app.config["MESSAGE_NAMESPACE"], contract),
        "MessageId": str(message_id),
        "CorrelationId": str(values.get("booking_id") or conversation),
        "ConversationId": conversation,
    })
    db.session.execute(
        INSERT_SQL,
        {
            "message_id": message_id,
            "message_type": contract.type_name(),
            "body": json.dumps(body),
            "headers": json.dumps(headers),
        },
    )
