"""The outbox of events to publish and the inbox of messages applied.

- ix_outbox_messages_unpublished (id) WHERE published_at IS NULL: the relay takes the
  oldest unpublished rows with FOR UPDATE SKIP LOCKED; published rows leave the index.
- A statement-level trigger NOTIFYs `outbox` on insert, delivered at commit, so the
  relay wakes at once instead of polling.
- inbox_messages' primary key (consumer, message_id) is the only index it needs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("message_type", sa.String(length=128), nullable=False),
        sa.Column("body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_outbox_messages_unpublished", "outbox_messages", ["id"], postgresql_where=sa.text("published_at IS NULL")
    )
    op.execute(
        """
        CREATE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('outbox', '');
            RETURN NULL;
        END $$;
        CREATE TRIGGER outbox_messages_notify AFTER INSERT ON outbox_messages
            FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();
        """
    )
    op.create_table(
        "inbox_messages",
        sa.Column("consumer", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.UUID(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "message_id"),
    )


def downgrade():
    op.drop_table("inbox_messages")
    op.execute("DROP TRIGGER outbox_messages_notify ON outbox_messages; DROP FUNCTION notify_outbox()")
    op.drop_table("outbox_messages")
