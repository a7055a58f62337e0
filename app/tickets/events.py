"""What the ticket domain announces, in its own words.

Service functions record these in the outbox (`app.outbox.record`) in the transaction
of the change; how each goes out on the wire, and in which contract sets, is the
messaging side's business (`app.messaging.translation`).
"""

from enum import StrEnum


class Happened(StrEnum):
    """A kind of domain event; the facts recorded with each are listed beside it."""

    TICKETS_HELD = "TicketsHeld"  # booking_id, event_id, ticket_ids, held_until, total_price, currency
    HOLD_REFUSED = "HoldRefused"  # booking_id, event_id, reason, requested, available
    TICKETS_RESERVED = "TicketsReserved"  # booking_id, event_id, ticket_ids
    RESERVATION_REFUSED = "ReservationRefused"  # booking_id, event_id, reason
    TICKETS_RELEASED = "TicketsReleased"  # booking_id, event_id, ticket_ids
    HOLD_EXPIRED = "HoldExpired"  # booking_id, event_id, ticket_ids
