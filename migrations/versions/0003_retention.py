"""Indexes for retention: the sweeper deletes old published outbox rows and old inbox rows.

- ix_outbox_messages_published_at (published_at) WHERE published_at IS NOT NULL: the
  pruner takes the oldest published rows past OUTBOX_RETENTION_SECONDS, a batch at a time
  with FOR UPDATE SKIP LOCKED, without walking the table; unpublished rows stay out of it
  (the relay has ix_outbox_messages_unpublished for those).
- ix_inbox_messages_received_at (received_at): the same for inbox rows past
  INBOX_RETENTION_SECONDS; the primary key (consumer, message_id) cannot find rows by age.

Both tables may be large when this runs (nothing pruned them before), so the indexes are
built with CREATE INDEX CONCURRENTLY: PostgreSQL then takes a SHARE UPDATE EXCLUSIVE lock,
which lets inserts, updates and deletes go on during the build, instead of the SHARE lock
of a plain CREATE INDEX, which blocks every writer (the outbox is written by every change)
until the whole table is indexed. CONCURRENTLY cannot run in a transaction, hence the
autocommit block. The build waits for every transaction open on the table and may take
long on a big one, so this connection's statement_timeout and lock_timeout are lifted for
it (neither wait blocks a writer). A build that fails leaves an INVALID index behind;
each index is dropped (concurrently, if it exists) before it is built, so running the
migration again repairs it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_outbox_messages_published_at", "outbox_messages", "published_at", "published_at IS NOT NULL"),
    ("ix_inbox_messages_received_at", "inbox_messages", "received_at", None),
)


def upgrade():
    with op.get_context().autocommit_block():
        op.execute("SET statement_timeout = 0")
        op.execute("SET lock_timeout = 0")
        for name, table, column, where in INDEXES:
            op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
            op.create_index(
                name,
                table,
                [column],
                postgresql_where=sa.text(where) if where else None,
                postgresql_concurrently=True,
            )
        op.execute("RESET statement_timeout")
        op.execute("RESET lock_timeout")


def downgrade():
    with op.get_context().autocommit_block():
        for name, table, _column, _where in reversed(INDEXES):
            op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
