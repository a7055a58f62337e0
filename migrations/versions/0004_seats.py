"""Seated events: seat, category, price and customer columns on tickets; event settings.

Safe on a large, busy tickets table (checked on 10,000,000 rows: see docs/seats.md):

- The new ticket columns are nullable and have no default, so ADD COLUMN only changes
  the catalogue: no row is rewritten. It still needs the table's ACCESS EXCLUSIVE lock for
  a moment, and waiting for it would queue every sale behind the longest open
  transaction; so all columns come in one ALTER TABLE under a short lock_timeout, retried
  a few times when a transaction is in the way.
- The indexes are built with CREATE INDEX CONCURRENTLY (writers go on; see 0003), each
  dropped first if a failed build left it INVALID, so running the migration again repairs it:
  - ux_tickets_seat (event_id, section, row_label, seat_label) UNIQUE WHERE seat_label IS NOT
    NULL: a seat label is unique per event (general-admission tickets stay out of it);
  - ix_tickets_free_seats (event_id, row_rank, seat_position) WHERE status = 'Available' AND
    row_rank IS NOT NULL: adjacent-seat searches read only the free seats of the event;
  - ix_tickets_customer (event_id, customer_id) WHERE customer_id IS NOT NULL: a customer's
    tickets in an event, for the per-customer limit.
- event_settings is a new table: nothing to lock.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

import time

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import OperationalError

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = (
    ("section", "varchar(64)"),
    ("row_label", "varchar(32)"),
    ("seat_label", "varchar(32)"),
    ("row_rank", "integer"),
    ("seat_position", "integer"),
    ("row_seats", "integer"),
    ("category", "varchar(32)"),
    ("price", "numeric(12, 2)"),
    ("customer_id", "varchar(128)"),
)
INDEXES = (
    ("ux_tickets_seat", ["event_id", "section", "row_label", "seat_label"], "seat_label IS NOT NULL", True),
    ("ix_tickets_free_seats", ["event_id", "row_rank", "seat_position"],
     "status = 'Available' AND row_rank IS NOT NULL", False),
    ("ix_tickets_customer", ["event_id", "customer_id"], "customer_id IS NOT NULL", False),
)
LOCK_TIMEOUT = "500ms"
ATTEMPTS = 20


def _add_columns():
    """Add every column in one statement, never waiting long for the table's lock."""
    added = ", ".join(f"ADD COLUMN IF NOT EXISTS {name} {kind}" for name, kind in COLUMNS)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with op.get_context().autocommit_block():
                op.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
                try:
                    op.execute(f"ALTER TABLE tickets {added}")
                finally:
                    op.execute("RESET lock_timeout")
            return
        except OperationalError:
            if attempt == ATTEMPTS:
                raise
            time.sleep(min(attempt, 5))


def upgrade():
    op.create_table(
        "event_settings",
        sa.Column("event_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("max_tickets_per_customer", sa.Integer(), nullable=True),
        sa.Column("categories", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("layout", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    _add_columns()
    with op.get_context().autocommit_block():
        op.execute("SET statement_timeout = 0")
        op.execute("SET lock_timeout = 0")
        for name, columns, where, unique in INDEXES:
            op.drop_index(name, table_name="tickets", postgresql_concurrently=True, if_exists=True)
            op.create_index(name, "tickets", columns, unique=unique, postgresql_where=sa.text(where),
                            postgresql_concurrently=True)
        op.execute("RESET statement_timeout")
        op.execute("RESET lock_timeout")


def downgrade():
    with op.get_context().autocommit_block():
        for name, _columns, _where, _unique in reversed(INDEXES):
            op.drop_index(name, table_name="tickets", postgresql_concurrently=True, if_exists=True)
    op.execute("ALTER TABLE tickets " + ", ".join(f"DROP COLUMN IF EXISTS {name}" for name, _ in COLUMNS))
    op.drop_table("event_settings")
