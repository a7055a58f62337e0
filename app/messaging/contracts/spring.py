"""The Events Service's ticket creation, sent by Spring AMQP (SPEC §6.3).

Spring's `RabbitTemplate` with a Jackson converter sends `{"eventId", "numberOfTickets"}`
to the topic exchange `events.exchange` with routing key `event.ticket.create`, a
`__TypeId__` header naming the Java class, and no message id. The original Ticket
service consumed it with MassTransit as `TicketService.Contracts.Messages:CreateEventTicket`
on the queue `create-event-ticket`; that type's exchange is bound to the queue too.
Beyond the original, the message may carry a seated event's `layout`, as
`EventPublishedEvent` may.
"""

from app.messaging.contracts.creation import EventCreation

QUEUE = "create-event-ticket"
EXCHANGE = "events.exchange"
ROUTING_KEY = "event.ticket.create"


class CreateEventTicket(EventCreation):
    """Create the tickets of a new event, or the seats of its layout."""

    namespace = "TicketService.Contracts.Messages"
    contract_set = "spring"
