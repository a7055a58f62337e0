"""The ticket lifecycle: which status may follow which."""

from app.errors import InvalidTransition
from app.models import TicketStatus

Available, Held, Reserved, Sold, Cancelled = (
    TicketStatus.AVAILABLE,
    TicketStatus.HELD,
    TicketStatus.RESERVED,
    TicketStatus.SOLD,
    TicketStatus.CANCELLED,
)

TRANSITIONS = {
    Available: {Held, Reserved, Cancelled},
    Held: {Reserved, Available, Cancelled},
    Reserved: {Sold, Available, Cancelled},
    Sold: set(),
    Cancelled: set(),
}

DELETABLE = {Available, Cancelled}


def check_transition(current, target):
    """Accept a move from `current` to `target`, or explain why the lifecycle forbids it.

    :raises InvalidTransition: the move is not in the lifecycle.
    """
    if TicketStatus(target) not in TRANSITIONS[TicketStatus(current)]:
        allowed = ", ".join(sorted(TRANSITIONS[TicketStatus(current)])) or "none (final state)"
        raise InvalidTransition(
            f"Cannot change a ticket from {current} to {target}; from {current} it may go to: {allowed}."
        )
