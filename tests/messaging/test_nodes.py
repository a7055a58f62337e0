"""A cluster's nodes in `RABBITMQ_URL` (or `RabbitMq__Host`): all given, tried in an order of each connection's own."""

import time

import pytest

import config
from app.messaging.nodes import connection_parameters, node_parameters, node_urls
from app.runtime import run_with_reconnect

CLUSTER = "amqp://g:g@127.0.0.1:5681/%2F, amqp://g:g@127.0.0.1:5682/%2F,amqp://g:g@127.0.0.1:5683/%2F,"


def test_a_url_lists_one_node_or_several_separated_by_commas():
    assert node_urls("amqp://guest:guest@127.0.0.1:5672/%2F") == ["amqp://guest:guest@127.0.0.1:5672/%2F"]
    assert [url[-8:] for url in node_urls(CLUSTER)] == ["5681/%2F", "5682/%2F", "5683/%2F"]


def test_each_connection_tries_every_node_in_an_order_of_its_own():
    orders = {tuple(node.port for node in node_parameters(CLUSTER)) for _ in range(200)}
    assert all(sorted(order) == [5681, 5682, 5683] for order in orders)
    assert len(orders) == 6


def test_every_node_gets_the_connection_settings_and_name():
    parameters = connection_parameters(CLUSTER, "hold-tickets")
    assert {(node.heartbeat, node.connection_attempts, node.socket_timeout) for node in parameters} == {(30, 1, 5)}
    assert {node.client_properties["connection_name"] for node in parameters} == {"ticket-service hold-tickets"}


@pytest.mark.parametrize(("hosts", "url"), [
    ("rabbit", "amqp://u:p@rabbit:5672/v"),
    ("rabbit-1, rabbit-2:5673,", "amqp://u:p@rabbit-1:5672/v,amqp://u:p@rabbit-2:5673/v"),
])
def test_the_original_host_variable_may_list_a_clusters_nodes(monkeypatch, hosts, url):
    monkeypatch.delenv("RABBITMQ_URL", raising=False)
    for name, value in {"RabbitMq__Host": hosts, "RabbitMq__Username": "u", "RabbitMq__Password": "p",
                        "RabbitMq__VirtualHost": "v"}.items():
        monkeypatch.setenv(name, value)
    assert config._rabbitmq_url() == url


class CountedStopper:
    """A stop flag set after `rounds` waits; records each wait."""

    def __init__(self, rounds):
        self.rounds = rounds
        self.waits = []

    def is_set(self):
        return len(self.waits) >= self.rounds

    def wait(self, seconds):
        self.waits.append(seconds)


def test_a_connection_lost_after_serving_a_while_is_tried_again_a_second_later(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    served = iter([0, 0, 0, 3600, 0])  # seconds each connection served before it was lost

    def work():
        now[0] += next(served)
        raise ConnectionResetError

    stopper = CountedStopper(rounds=5)
    run_with_reconnect(work, stopper, "hold-tickets")
    assert stopper.waits == [1, 2, 4, 1, 2]
