"""A message that meets busy tickets goes back to the queue and is applied once they are free."""

import uuid

from sqlalchemy import text

from app.extensions import db
from tests.messaging.database import eventually
from tests.messaging.messages import new_id, raw


def test_a_message_whose_ticket_is_locked_goes_back_to_the_queue_until_it_is_free(
    app, relay, spawn, broker, answers, database, make_tickets, event_id
):
    (ticket,) = make_tickets(event_id, 1)
    consumer = spawn("hold-tickets", alone=True, DB_LOCK_TIMEOUT_MS=200)
    booking = uuid.uuid4()
    with app.app_context(), db.engine.connect() as blocker:
        blocker.execute(text("SELECT id FROM tickets WHERE id = :t FOR UPDATE"), {"t": ticket})
        broker.send(raw("HoldTicketsRequest", {"bookingId": str(booking), "eventId": event_id,
                                               "ticketIds": [ticket]}, message_id=new_id()))
        assert eventually(lambda: consumer.log().count("will retry") >= 2), "the locked message was not retried"
        assert database.inbox_count("hold-tickets") == 0
        blocker.rollback()
    (answer,) = answers.receive(booking)
    assert answer.type_name == "TicketHeldEvent" and answer.body["ticketIds"] == [ticket]
    assert database.tickets(event_id) == {ticket: ("Held", str(booking))}
    assert database.inbox_count("hold-tickets") == 1
