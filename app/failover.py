"""The database's primary changing under the service (a failover): connections follow the new one.

The service may reach PostgreSQL through a libpq multi-host URL with
`target_session_attrs=read-write`: each new connection goes to the host that takes writes
now. On top of that, the engine's connections are watched for two things:

- A connection left on a server that stopped being the primary is dropped. Its writes
  fail as read-only (SQLSTATE 25006), an error SQLAlchemy does not count as a disconnect,
  nor the server's shutdown codes (57P01-57P03) when worded unexpectedly. Counted as one,
  the connection is invalidated with every older one of the pool, and the error reaches
  the caller with `connection_invalidated` set: the API answers 503 with Retry-After, a
  consumer returns its batch to the queue.
- A new connection to a primary that wants a synchronous standby and has none connected
  is refused. That is what a primary whose PostgreSQL crashed looks like once its keeper
  (pg_autoctl) has restarted it, in the seconds before the monitor has it demoted: it
  shows the transactions it committed alone just before the crash, which the promoted
  standby never received. Reading them, the relay would publish events of holds that the
  failover then loses, and a consumer would acknowledge as duplicates messages that were
  never applied. Refused, the connection fails like one to a server that is down.
"""

from sqlalchemy import event

# read_only_sql_transaction, admin_shutdown, crash_shutdown, cannot_connect_now
CODES_OF_A_LOST_PRIMARY = frozenset({"25006", "57P01", "57P02", "57P03"})
# Every role sees the rows of pg_stat_replication (one per connected standby), if not their details.
DURABLE_SQL = (
    "SELECT current_setting('synchronous_standby_names') = '' OR EXISTS (SELECT FROM pg_stat_replication)"
)


def follow_the_primary(engine):
    """Drop the engine's connections to a former primary; refuse new ones to a primary that cannot replicate."""
    dbapi = engine.dialect.loaded_dbapi

    @event.listens_for(engine, "handle_error")
    def lost_primary(context):
        if getattr(context.original_exception, "pgcode", None) in CODES_OF_A_LOST_PRIMARY:
            context.is_disconnect = True

    @event.listens_for(engine, "connect")
    def connected(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute(DURABLE_SQL)
            durable = cursor.fetchone()[0]
        dbapi_connection.rollback()
        if not durable:
            dbapi_connection.close()
            raise dbapi.OperationalError("the primary has no synchronous standby connected: it may be about to be "
                                         "demoted, and what it shows may not survive the failover")
