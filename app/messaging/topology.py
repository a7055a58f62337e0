"""RabbitMQ names and declarations, laid out as MassTransit lays them out.

A message type's exchange `{namespace}:{TypeName}` (durable fanout) is bound to an
exchange named like the consumer's queue, which is bound to that queue: a peer that
publishes the type and a peer that sends to `queue:hold-tickets` both reach it. Every
contract set's type is bound to the queue that consumes it. Faulted messages go to
`{queue}_error`, messages of a type the queue does not consume to `{queue}_skipped`,
each through an exchange of the same name. `create-event-ticket` is also bound to
Spring AMQP's topic exchange `events.exchange` by routing key.
"""

from app.messaging.contracts import CONSUMED, PUBLISHED, spring
from app.messaging.faults import FAULT_EXCHANGE, fault_exchange


def error_queue(queue):
    """Return the queue (and exchange) that faulted messages of `queue` go to."""
    return f"{queue}_error"


def skipped_queue(queue):
    """Return the queue (and exchange) that messages of types `queue` does not consume go to."""
    return f"{queue}_skipped"


def _fanout(channel, exchange):
    channel.exchange_declare(exchange, exchange_type="fanout", durable=True)


def queue_arguments(queue_type):
    """Return the arguments of a queue of `queue_type`: classic (none) or quorum (for clusters)."""
    return {"x-queue-type": "quorum"} if queue_type == "quorum" else None


def declare_consumer(channel, namespace, queue, queue_type="classic"):
    """Declare the exchanges, queues and bindings a consumer of `queue` needs.

    `{queue}_error` and `{queue}_skipped` take the queue's arguments (its type). A quorum
    queue dead-letters to `{queue}_error` a message redelivered past its delivery limit
    (RabbitMQ 4 sets one by default), instead of dropping it.
    """
    for name in (queue, error_queue(queue), skipped_queue(queue)):
        _fanout(channel, name)
        arguments = queue_arguments(queue_type)
        if arguments and name == queue:
            arguments |= {"x-dead-letter-exchange": error_queue(queue)}
        channel.queue_declare(name, durable=True, arguments=arguments)
        channel.queue_bind(name, exchange=name)
    for contract in CONSUMED[queue]:
        _fanout(channel, contract.full_name(namespace))
        channel.exchange_bind(destination=queue, source=contract.full_name(namespace))
    if queue == spring.QUEUE:
        channel.exchange_declare(spring.EXCHANGE, exchange_type="topic", durable=True)
        channel.queue_bind(queue, exchange=spring.EXCHANGE, routing_key=spring.ROUTING_KEY)


def declare_exchange(channel, exchange):
    """Declare an exchange this service publishes to.

    A `Fault<T>` exchange is bound to `MassTransit:Fault`, as MassTransit binds a type's
    exchange to those of the types it implements.
    """
    _fanout(channel, exchange)
    if exchange.startswith(f"{FAULT_EXCHANGE}--"):
        _fanout(channel, FAULT_EXCHANGE)
        channel.exchange_bind(destination=FAULT_EXCHANGE, source=exchange)


def declare_published(channel, namespace):
    """Declare the exchange of every message this service publishes: its events and the faults it may publish.

    Returns their names. A fault of a type under another namespace (a peer's own name
    for a type the queue consumes) is declared when it is first published.
    """
    exchanges = {contract.full_name(namespace) for contract in PUBLISHED} | {
        fault_exchange(contract.full_name(namespace)) for contracts in CONSUMED.values() for contract in contracts
    }
    for exchange in sorted(exchanges):
        declare_exchange(channel, exchange)
    return exchanges
