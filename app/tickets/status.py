"""Change one ticket's status, or delete it, on its locked row."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from flask import current_app
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import UUID as PG_UUID

from app import cache
from app.errors import Conflict, NotFound, PreconditionFailed, TicketNotDeletable
from app.extensions import db
from app.models import TicketStatus
from app.tickets.lifecycle import DELETABLE, check_transition
from app.tickets.locking import keys_for, redis_locks
from app.tickets.moves import lock_tickets, move_tickets
from app.transaction import transaction

DELETE_SQL = text("DELETE FROM tickets WHERE id = :id").bindparams(
    bindparam("id", type_=PG_UUID(as_uuid=True))
)


@dataclass(frozen=True)
class StatusChange:
    """The outcome of a status change."""

    ticket_id: UUID
    status: TicketStatus
    previous_status: TicketStatus
    updated_at: datetime


def _lock_one(ticket_id, expected_version):
    redis_locks(keys_for(ticket_ids=[ticket_id]))
    ticket = lock_tickets([ticket_id]).get(ticket_id)
    if ticket is None:
        raise NotFound(f"Ticket {ticket_id} was not found.")
    if expected_version is not None and expected_version != ticket.version:
        raise PreconditionFailed(
            f"Ticket {ticket_id} is at version {ticket.version}, not {expected_version}."
        )
    return ticket


def change_status(*, ticket_id, status, booking_id=None, expected_version=None):
    """Move a ticket to `status` if the lifecycle allows it; the same status is a no-op.

    A move to Held takes the default hold deadline and `booking_id` as owner. With a
    `booking_id`, a ticket another booking owns (an expired hold aside) is refused;
    without one, the change is an operator's and ownership is kept.

    :raises NotFound: no such ticket.
    :raises PreconditionFailed: `expected_version` is not the ticket's version.
    :raises Conflict: the ticket belongs to another booking.
    :raises InvalidTransition: the lifecycle forbids the move.
    :raises Busy: the ticket is locked by another request for longer than the bounded wait.
    """
    with transaction():
        ticket = _lock_one(ticket_id, expected_version)
        owner = ticket.booking_id
        if booking_id is not None and owner not in (None, booking_id) and not ticket.hold_expired:
            raise Conflict(f"Ticket {ticket_id} belongs to another booking.")
        if ticket.status == status:
            return StatusChange(ticket_id, ticket.status, ticket.status, ticket.updated_at)
        check_transition(ticket.status, status)
        moved = move_tickets(
            [ticket_id],
            to_status=status,
            booking_id=booking_id,
            hold_seconds=current_app.config["HOLD_DEFAULT_SECONDS"],
        )[ticket_id]
        return StatusChange(ticket_id, str(status), moved.from_status, moved.updated_at)


def delete_ticket(*, ticket_id, expected_version=None):
    """Delete an Available or Cancelled ticket.

    :raises NotFound: no such ticket.
    :raises PreconditionFailed: `expected_version` is not the ticket's version.
    :raises TicketNotDeletable: the ticket is Held, Reserved or Sold.
    :raises Busy: the ticket is locked by another request for longer than the bounded wait.
    """
    with transaction():
        ticket = _lock_one(ticket_id, expected_version)
        if ticket.status not in DELETABLE:
            raise TicketNotDeletable(
                f"Ticket {ticket_id} is {ticket.status}; only Available or Cancelled tickets can be deleted."
            )
        db.session.execute(DELETE_SQL, {"id": ticket_id})
        cache.invalidate_after_transaction(ticket_ids=[ticket_id], event_ids=[ticket.event_id])
