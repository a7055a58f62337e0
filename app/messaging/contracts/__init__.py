"""Message contracts, defined once for parsing and for publishing, in the sets peers speak (SPEC §6.2).

- `readme`: the original README's names, in the namespace `MESSAGE_NAMESPACE`;
- `ticketer`: what the original services' code sends and expects (`SharedLibrary.Contracts.*`);
- `spring`: the Events Service's ticket creation, sent by Spring AMQP.

Property names are camelCase on the wire and read case-insensitively; `null` stands
for an absent optional property; unknown properties are ignored (a peer may add fields).
"""

from app.messaging.contracts import readme, spring, ticketer
from app.messaging.contracts.base import Contract

# Every queue this service consumes, with the contracts it takes: the first one reads a
# message that declares no type and came through no type's exchange.
CONSUMED = {
    "event-published": (readme.EventPublishedEvent,),
    "hold-tickets": (readme.HoldTicketsRequest, ticketer.HoldTickets),
    "reserve-tickets": (readme.ReserveTicketsRequest, ticketer.ReserveTickets),
    "release-tickets": (readme.ReleaseTicketsRequest, ticketer.ReleaseTickets),
    spring.QUEUE: (spring.CreateEventTicket,),
}
PUBLISHED = readme.PUBLISHED + ticketer.PUBLISHED

__all__ = ["CONSUMED", "PUBLISHED", "Contract"]
