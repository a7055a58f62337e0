"""Database connections checked before use only when they have been idle.

SQLAlchemy's `pool_pre_ping` sends `SELECT 1` before every checkout: a round trip per
request, for connections that served another request a millisecond ago. Here a
connection is pinged only when it has sat in the pool for `DB_PING_IDLE_SECONDS` or
more. A database restart or failover takes longer than that, so connections it broke
are pinged, found dead and replaced before use; one that broke while in use fails its
request, which answers 503 with Retry-After, and is replaced (see also `app.failover`).
"""

import time

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError

RETURNED_AT = "returned_at"


def ping_when_idle(engine, idle_seconds):
    """Ping the engine's connections at checkout when they have been idle `idle_seconds` or more."""

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def returned(_dbapi_connection, record):
        record.info[RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def checked_out(dbapi_connection, record, _proxy):
        if time.monotonic() - record.info.get(RETURNED_AT, 0) < idle_seconds:
            return
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("the pooled connection is gone") from exc
