"""Fixtures of the messaging tests: a RabbitMQ vhost per run, the message processes, test queues."""

import os

import pika
import pytest

from tests.messaging.broker import BROKER, Broker, consumer_count, temporary_vhost
from tests.messaging.database import Database
from tests.messaging.messages import LAYOUT
from tests.messaging.processes import QUEUES, Fleet


@pytest.fixture(scope="session")
def vhost():
    """A RabbitMQ vhost of this run alone, deleted at the end: other runs on the broker never interfere."""
    name = f"tickets-test-{os.getpid()}"
    with temporary_vhost(name):
        yield name


@pytest.fixture(scope="session")
def amqp_url(vhost):
    return f"amqp://guest:guest@{BROKER}/{vhost}"


@pytest.fixture(scope="session")
def namespace(app):
    return app.config["MESSAGE_NAMESPACE"]


@pytest.fixture(scope="session")
def database(app):
    return Database(app)


@pytest.fixture(scope="package")
def fleet(app, database_url, amqp_url, namespace, database, tmp_path_factory):
    """Every message process of these tests, on the run's database and vhost; all stopped after them.

    Package-scoped: a relay left running would publish the outbox rows of later tests.
    """
    env = os.environ | {
        "APP_ENV": "development",
        "DATABASE_URL": database_url,
        "RABBITMQ_URL": amqp_url,
        "MESSAGE_NAMESPACE": namespace,
        "LOG_LEVEL": "INFO",
        "OUTBOX_POLL_SECONDS": "1",
    }

    def ready_count(role):
        if role == "relay":
            return database.listening_relays()
        return consumer_count(pika.URLParameters(amqp_url), role)

    processes = Fleet(env, tmp_path_factory.mktemp("processes"), ready_count)
    yield processes
    processes.stop()


@pytest.fixture
def services(fleet):
    """The shared consumer of every queue and the shared outbox relay, running."""
    fleet.ensure(*QUEUES, "relay")
    return fleet


@pytest.fixture
def relay(fleet):
    """The shared outbox relay alone, running: for tests that run consumers of their own."""
    fleet.ensure("relay")
    return fleet


@pytest.fixture
def spawn(fleet):
    """Start message processes for this test, stopped at its end; `alone=True` stops the shared one first."""
    started = []

    def start(role, *, alone=False, **env):
        if alone:
            fleet.stop(role)
        process = fleet.start(role, **env)
        started.append(process)
        return process

    yield start
    for process in started:
        process.terminate()


@pytest.fixture
def broker(amqp_url, namespace):
    """A connection to the run's vhost for this test."""
    connection = Broker(amqp_url, namespace)
    yield connection
    connection.close()


@pytest.fixture
def answers(broker):
    """A test queue bound to the exchange of every event the service publishes, bound before the test acts."""
    return broker.listen()


@pytest.fixture
def make_seats(client):
    """Create an event's seats from a layout (`LAYOUT` unless given) through the API."""

    def make(event_id, layout=LAYOUT):
        response = client.put(f"/api/Ticket/event/{event_id}/layout", json=layout)
        assert response.status_code == 201, response.get_json()

    return make
