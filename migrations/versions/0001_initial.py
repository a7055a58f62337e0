"""Tickets, their status changes, and idempotency keys.

Indexes follow the queries the service runs, nothing more (the original's three
overlapping indexes, one on a five-valued status alone, cost every write and help
little):

- ix_tickets_event_id_id (event_id, id): an event's tickets in a stable order — the
  streamed `GET /event/{id}`, its pages, `GET /?eventId=`, and the summary's count.
- ix_tickets_available (event_id, id) WHERE status = 'Available': a quantity hold picks
  the first free seats of an event with FOR UPDATE SKIP LOCKED without walking past
  the sold ones; small, because sold tickets leave it.
- ix_tickets_held_until (held_until) WHERE status = 'Held': the hold sweeper and the
  expired holds a quantity hold may take; holds are few and short-lived.
- ix_tickets_booking_id (booking_id) WHERE booking_id IS NOT NULL: a booking's tickets,
  for repeated holds and releases; Available tickets (the most) have no booking.
- ix_ticket_status_changes_ticket_id_id (ticket_id, id): `/history`, oldest first.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

STATUSES = "'Available', 'Held', 'Reserved', 'Sold', 'Cancelled'"


def upgrade():
    op.create_table(
        "tickets",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="Available", nullable=False),
        sa.Column("booking_id", sa.UUID(), nullable=True),
        sa.Column("held_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint(f"status IN ({STATUSES})", name="ck_tickets_status"),
        sa.CheckConstraint("status <> 'Held' OR held_until IS NOT NULL", name="ck_tickets_hold_deadline"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_tickets_event_id_id", "tickets", ["event_id", "id"])
    op.create_index(
        "ix_tickets_available", "tickets", ["event_id", "id"], postgresql_where=sa.text("status = 'Available'")
    )
    op.create_index("ix_tickets_held_until", "tickets", ["held_until"], postgresql_where=sa.text("status = 'Held'"))
    op.create_index(
        "ix_tickets_booking_id", "tickets", ["booking_id"], postgresql_where=sa.text("booking_id IS NOT NULL")
    )

    op.create_table(
        "ticket_status_changes",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.UUID(), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("booking_id", sa.UUID(), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("correlation_id", sa.String(length=128), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(f"to_status IN ({STATUSES})", name="ck_ticket_status_changes_to_status"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ticket_status_changes_ticket_id_id", "ticket_status_changes", ["ticket_id", "id"])

    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("key", "scope"),
    )


def downgrade():
    op.drop_table("idempotency_keys")
    op.drop_table("ticket_status_changes")
    op.drop_table("tickets")
