"""The broker's nodes: `RABBITMQ_URL` names one, or every node of a cluster, comma-separated.

Every process is given every node. Each connection tries them in an order of its own,
shuffled, so that the processes spread over the cluster, and a process whose node dies
reconnects to another: pika's BlockingConnection takes a list of parameters and tries
each in turn. Addresses in MassTransit's headers name the first node, the same in
every process.
"""

import random

import pika


def node_urls(rabbitmq_url):
    """Return the AMQP URLs that `rabbitmq_url` lists (comma-separated), in their order."""
    return [url.strip() for url in rabbitmq_url.split(",") if url.strip()]


def node_parameters(rabbitmq_url, **settings):
    """Return pika parameters of every node of `rabbitmq_url`, in a random order, each with `settings` set."""
    urls = node_urls(rabbitmq_url)
    parameters = []
    for url in random.sample(urls, k=len(urls)):
        node = pika.URLParameters(url)
        for name, value in settings.items():
            setattr(node, name, value)
        parameters.append(node)
    return parameters


def connection_parameters(url, name):
    """Return pika parameters of every node of `url`, shuffled, each with a heartbeat and one connection attempt.

    The connection is named `ticket-service {name}` in the broker's connection list.
    """
    return node_parameters(url, heartbeat=30, blocked_connection_timeout=60, connection_attempts=1,
                           socket_timeout=5, client_properties={"connection_name": f"ticket-service {name}"})
