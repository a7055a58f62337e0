"""Connections after a failover: one left on a former primary is dropped, one to a primary without standby refused."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app import failover
from app.errors import ServiceUnavailable, translate_database_error
from app.extensions import db
from app.messaging.processing import _connection_lost
from app.transaction import transaction

WRITE = text("UPDATE tickets SET status = status WHERE false")


def test_a_write_refused_as_read_only_answers_503_and_the_connection_is_closed(app_context):
    with pytest.raises(ServiceUnavailable) as raised, transaction():
        # What a connection left on a demoted primary meets: its writes are refused as read-only.
        db.session.execute(text("SET TRANSACTION READ ONLY"))
        stale = db.session.connection().connection.dbapi_connection
        db.session.execute(WRITE)
    cause = raised.value.__cause__
    assert isinstance(cause, DBAPIError) and cause.orig.pgcode == "25006"
    assert cause.connection_invalidated and stale.closed
    assert isinstance(translate_database_error(cause), ServiceUnavailable)
    assert _connection_lost(raised.value), "a consumer would fault the batch's messages instead of returning them"
    with transaction():
        db.session.execute(WRITE)


def test_a_primary_that_cannot_replicate_is_answered_like_one_that_is_down(make_app, monkeypatch, event_id):
    app = make_app()  # an engine of its own: every connection is new
    monkeypatch.setattr(failover, "DURABLE_SQL", "SELECT false")
    response = app.test_client().post("/api/Ticket/", json={"eventId": event_id, "quantity": 1})
    assert response.status_code == 503, response.get_json()
    assert response.headers["Retry-After"]
    monkeypatch.setattr(failover, "DURABLE_SQL", "SELECT true")
    assert app.test_client().post("/api/Ticket/", json={"eventId": event_id, "quantity": 1}).status_code == 201
