"""RabbitMQ names and declarations, laid out as MassTransit lays them out.

A message type's exchange `{namespace}:{TypeName}` (durable fanout) is bound to an
exchange named like the consumer's queue, which is bound to that queue: a peer that
publishes the type and a peer that sends to `queue:hold-tickets` both reach it.
Faulted messages go to `{queue}_error` through an exchange of the same name.
"""

from app.messaging.contracts import CONSUMED, PUBLISHED


def exchange_name(namespace, contract):
    """Return the exchange of a message type."""
    return f"{namespace}:{contract.type_name()}"


def message_type_urn(namespace, contract):
    """Return the MassTransit message type URN of a contract."""
    return f"urn:message:{namespace}:{contract.type_name()}"


def error_queue(queue):
    """Return the queue (and exchange) that faulted messages of `queue` go to."""
    return f"{queue}_error"


def declare_consumer(channel, namespace, queue):
    """Declare the exchanges, queues and bindings a consumer of `queue` needs."""
    type_exchange = exchange_name(namespace, CONSUMED[queue])
    for exchange in (type_exchange, queue, error_queue(queue)):
        channel.exchange_declare(exchange, exchange_type="fanout", durable=True)
    channel.exchange_bind(destination=queue, source=type_exchange)
    for name in (queue, error_queue(queue)):
        channel.queue_declare(name, durable=True)
        channel.queue_bind(name, exchange=name)


def declare_published(channel, namespace):
    """Declare the exchange of every message type this service publishes."""
    for contract in PUBLISHED:
        channel.exchange_declare(exchange_name(namespace, contract), exchange_type="fanout", durable=True)
