"""Database models: tickets, event settings, status changes, idempotency keys, outbox and inbox."""

import enum
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Index, Integer, Numeric, String, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class TicketStatus(enum.StrEnum):
    """The states of a ticket's lifecycle."""

    AVAILABLE = "Available"
    HELD = "Held"
    RESERVED = "Reserved"
    SOLD = "Sold"
    CANCELLED = "Cancelled"


STATUS_VALUES = ", ".join(f"'{status.value}'" for status in TicketStatus)


class Ticket(db.Model):
    """One seat of one event."""

    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint(f"status IN ({STATUS_VALUES})", name="ck_tickets_status"),
        CheckConstraint("status <> 'Held' OR held_until IS NOT NULL", name="ck_tickets_hold_deadline"),
        Index("ix_tickets_event_id_id", "event_id", "id"),
        Index(
            "ix_tickets_available",
            "event_id",
            "id",
            postgresql_where=text("status = 'Available'"),
        ),
        Index("ix_tickets_held_until", "held_until", postgresql_where=text("status = 'Held'")),
        Index("ix_tickets_booking_id", "booking_id", postgresql_where=text("booking_id IS NOT NULL")),
        Index("ux_tickets_seat", "event_id", "section", "row_label", "seat_label", unique=True,
              postgresql_where=text("seat_label IS NOT NULL")),
        Index("ix_tickets_free_seats", "event_id", "row_rank", "seat_position",
              postgresql_where=text("status = 'Available' AND row_rank IS NOT NULL")),
        Index("ix_tickets_customer", "event_id", "customer_id", postgresql_where=text("customer_id IS NOT NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()
    )
    event_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), server_default=TicketStatus.AVAILABLE.value)
    booking_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    held_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, server_default="0")
    # A seat of a seated event (all None for general admission): its labels, where it is
    # (rows ranked front first across the layout, positions along the row), its category
    # and price; and the customer whose hold, reservation or purchase it is.
    section: Mapped[str | None] = mapped_column(String(64))
    row_label: Mapped[str | None] = mapped_column(String(32))
    seat_label: Mapped[str | None] = mapped_column(String(32))
    row_rank: Mapped[int | None] = mapped_column(Integer)
    seat_position: Mapped[int | None] = mapped_column(Integer)
    row_seats: Mapped[int | None] = mapped_column(Integer)
    category: Mapped[str | None] = mapped_column(String(32))
    price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    customer_id: Mapped[str | None] = mapped_column(String(128))


class EventSettings(db.Model):
    """An event's currency, price categories, per-customer limit and seat layout."""

    __tablename__ = "event_settings"

    event_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    currency: Mapped[str] = mapped_column(String(3))
    max_tickets_per_customer: Mapped[int | None] = mapped_column(Integer)
    categories: Mapped[dict] = mapped_column(JSONB)
    layout: Mapped[dict | None] = mapped_column(JSONB)
    seats: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TicketStatusChange(db.Model):
    """One row of the audit trail: a ticket moved from one status to another."""

    __tablename__ = "ticket_status_changes"
    __table_args__ = (
        CheckConstraint(f"to_status IN ({STATUS_VALUES})", name="ck_ticket_status_changes_to_status"),
        Index("ix_ticket_status_changes_ticket_id_id", "ticket_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    ticket_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    booking_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    source: Mapped[str] = mapped_column(String(32))
    correlation_id: Mapped[str | None] = mapped_column(String(128))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class IdempotencyKey(db.Model):
    """The first answer to a creation request sent with an `Idempotency-Key` header."""

    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OutboxMessage(db.Model):
    """An event to publish, written in the same transaction as the change that caused it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_unpublished", "id", postgresql_where=text("published_at IS NULL")),
        Index("ix_outbox_messages_published_at", "published_at", postgresql_where=text("published_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    message_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), server_default=func.gen_random_uuid())
    message_type: Mapped[str] = mapped_column(String(128))
    body: Mapped[dict] = mapped_column(JSONB)
    headers: Mapped[dict] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class InboxMessage(db.Model):
    """A message a consumer has applied; its id makes a redelivery change nothing."""

    __tablename__ = "inbox_messages"
    __table_args__ = (Index("ix_inbox_messages_received_at", "received_at"),)

    consumer: Mapped[str] = mapped_column(String(64), primary_key=True)
    message_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
