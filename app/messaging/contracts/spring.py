"""The Events Service's ticket creation, sent by Spring AMQP (SPEC §6.3).

Spring's `RabbitTemplate` with a Jackson converter sends `{"eventId", "numberOfTickets"}`
to the topic exchange `events.exchange` with routing key `event.ticket.create`, a
`__TypeId__` header naming the Java class, and no message id. The original Ticket
service consumed it with MassTransit as `TicketService.Contracts.Messages:CreateEventTicket`
on the queue `create-event-ticket`; that type's exchange is bound to the queue too.
"""

from marshmallow import validate

from app.messaging.contracts.base import Contract, event_id, number_of_tickets

QUEUE = "create-event-ticket"
EXCHANGE = "events.exchange"
ROUTING_KEY = "event.ticket.create"


class CreateEventTicket(Contract):
    """Create the tickets of a new event."""

    namespace = "TicketService.Contracts.Messages"
    contract_set = "spring"

    event_id = event_id()
    number_of_tickets = number_of_tickets(required=True, validate=validate.Range(min=1))
