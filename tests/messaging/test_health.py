"""`/health` sees the message side: each consumed queue's consumers, the outbox's lag, on a kept connection."""

import json
import subprocess
import threading
import time

import pytest
import requests

from app.broker_probe import CONNECTION_NAME, close_probes, probe_for
from app.messaging.contracts import CONSUMED
from tests.messaging.database import eventually
from tests.servers import running_gunicorn

BURST = 200
DEAD_URL = "127.0.0.1:1"


def rabbitmqctl(*args):
    return subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, text=True, timeout=60).stdout


def broker_connections(vhost):
    """Return `{name: name given by the client}` of the connections the broker has open on `vhost`."""
    listing = rabbitmqctl("list_connections", "vhost", "name", "client_properties", "--formatter", "json")
    return {
        row["name"]: {key: value for key, _type, value in row["client_properties"]}.get("connection_name")
        for row in json.loads(listing or "[]") if row["vhost"] == vhost
    }


def health_connections(vhost):
    return {name for name, given in broker_connections(vhost).items() if given == CONNECTION_NAME}


def close_connection(name):
    """Have the broker close connection `name`, as when it restarts or an operator closes it."""
    # The JSON listing writes pids in a form close_connection does not take; the table does.
    pids = dict(line.split("\t")[::-1] for line in rabbitmqctl("list_connections", "pid", "name").splitlines()[1:])
    rabbitmqctl("close_connection", pids[name], "test")


@pytest.fixture(scope="module", autouse=True)
def closed_probes():
    """Close the kept connections after these tests, while the run's vhost still exists."""
    yield
    close_probes()


@pytest.fixture
def health_app(make_app, amqp_url):
    """Build an app on the run's vhost, with health settings of the test's own."""

    def make(**settings):
        return make_app(**{"RABBITMQ_URL": amqp_url} | settings)

    return make


@pytest.fixture
def fresh_health(health_app):
    """GET /health of an app that checks on every request: the broker's state now, not a cached one."""
    client = health_app(HEALTH_CACHE_SECONDS=0).test_client()

    def get():
        response = client.get("/health")
        return response.status_code, response.get_json()

    return get


def test_healthy_with_every_consumer_running_and_the_outbox_empty(services, fresh_health):
    code, body = fresh_health()

    assert (code, body["status"], body["problems"]) == (200, "healthy", []), body
    assert set(body["queues"]) == set(CONSUMED)
    assert all(queue["consumers"] >= 1 and queue["backlog"] == 0 for queue in body["queues"].values()), body
    assert body["outbox"] == {"backlog": 0, "oldestAgeSeconds": None}
    assert {check["status"] for check in body["checks"].values()} == {"up"}


@pytest.mark.parametrize("queue", ["hold-tickets", "create-event-ticket"])
def test_a_queue_without_consumer_degrades_health_and_is_named(services, fleet, fresh_health, queue):
    fleet.stop(queue)

    def degraded():
        _, body = fresh_health()
        return body if body["status"] != "healthy" else None

    body = eventually(degraded)
    assert body and body["status"] == "degraded", body
    assert body["problems"] == [f"queue {queue} has no consumer"]
    assert body["queues"][queue]["consumers"] == 0
    assert all(body["queues"][other]["consumers"] >= 1 for other in CONSUMED if other != queue)


def test_a_queue_that_does_not_exist_counts_as_one_without_consumer(services, amqp_url):
    """A passive declare of a missing queue closes the channel; the next queue is read on a new one."""
    probe = probe_for(amqp_url, 2.0)

    queues = probe.read(["no-such-queue", *CONSUMED, "no-such-queue-either"])

    assert queues["no-such-queue"] == queues["no-such-queue-either"] == {"consumers": 0, "backlog": 0}
    assert all(queues[queue]["consumers"] >= 1 for queue in CONSUMED), queues


@pytest.mark.parametrize(("age_seconds", "degraded"), [(0, False), (120, True)])
def test_the_outbox_degrades_health_once_its_oldest_event_is_older_than_the_limit(
    services, fleet, database, health_app, age_seconds, degraded
):
    fleet.stop("relay")
    database.write_outbox(3)
    database.execute("UPDATE outbox_messages SET created_at = created_at - make_interval(secs => :s)", s=age_seconds)

    body = health_app(OUTBOX_LAG_SECONDS=30).test_client().get("/health").get_json()

    assert body["outbox"]["backlog"] == 3
    assert age_seconds <= body["outbox"]["oldestAgeSeconds"] < age_seconds + 10
    if degraded:
        assert body["status"] == "degraded"
        assert body["problems"] == [
            f"outbox lags: its oldest unpublished event is {body['outbox']['oldestAgeSeconds']:g} s old (limit 30 s)"
        ]
    else:
        assert (body["status"], body["problems"]) == ("healthy", []), body


def test_rabbitmq_unreachable_is_degraded_without_queues(health_app):
    body = health_app(RABBITMQ_URL=f"amqp://guest:guest@{DEAD_URL}/%2F").test_client().get("/health").get_json()

    assert body["status"] == "degraded"
    assert body["checks"]["rabbitmq"]["status"] == "down"
    assert body["problems"] == ["rabbitmq is down"]
    assert "queues" not in body


def test_postgres_unreachable_is_unhealthy_without_outbox(services, health_app):
    app = health_app(SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg2://postgres@{DEAD_URL}/tickets")

    response = app.test_client().get("/health")

    assert response.status_code == 503
    body = response.get_json()
    assert (body["status"], body["problems"]) == ("unhealthy", ["postgres is down"]), body
    assert "outbox" not in body and body["checks"]["postgres"]["status"] == "down"


def test_a_report_is_kept_for_the_cache_time_then_checked_again(services, fleet, health_app):
    client = health_app(HEALTH_CACHE_SECONDS=1.5).test_client()
    first = client.get("/health").get_json()
    fleet.stop("release-tickets")

    assert client.get("/health").get_json() == first, "within the cache time: the same report"
    time.sleep(1.6)
    again = client.get("/health").get_json()
    assert again["checkedAt"] > first["checkedAt"]
    assert again["problems"] == ["queue release-tickets has no consumer"]


def test_concurrent_requests_share_one_check(services, health_app):
    app = health_app(HEALTH_CACHE_SECONDS=30)
    barrier = threading.Barrier(20)
    reports = []

    def ask():
        client = app.test_client()
        barrier.wait()
        reports.append(client.get("/health").get_json())

    threads = [threading.Thread(target=ask) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(reports) == 20
    assert len({report["checkedAt"] for report in reports}) == 1


@pytest.mark.parametrize("cache_seconds", [1.5, 0])
def test_a_burst_of_requests_opens_no_broker_connection(services, health_app, vhost, cache_seconds):
    """With no cache at all, each of the 200 requests reads every queue: on the one kept connection."""
    client = health_app(HEALTH_CACHE_SECONDS=cache_seconds).test_client()
    assert client.get("/health").get_json()["status"] == "healthy"
    assert eventually(lambda: health_connections(vhost)), "the kept connection is listed"
    before = broker_connections(vhost)

    answers = [client.get("/health") for _ in range(BURST)]

    assert {answer.status_code for answer in answers} == {200}
    assert set(broker_connections(vhost)) == set(before)


def test_a_connection_the_broker_closed_is_replaced_at_the_next_check(services, health_app, vhost):
    # Another timeout makes another probe (one per URL and timeout): its connection is the only new one.
    client = health_app(HEALTH_CACHE_SECONDS=0, HEALTH_CHECK_TIMEOUT_SECONDS=2.5).test_client()
    others = health_connections(vhost)
    assert client.get("/health").get_json()["status"] == "healthy"
    (kept,) = eventually(lambda: health_connections(vhost) - others)
    close_connection(kept)  # the broker waits for the idle client's answer: the probe sees it at its next read

    response = client.get("/health")

    assert (response.status_code, response.get_json()["status"]) == (200, "healthy"), response.get_json()
    assert eventually(lambda: kept not in health_connections(vhost))
    (replacement,) = health_connections(vhost) - others
    assert replacement != kept


def test_gunicorn_workers_answer_a_burst_on_one_kept_connection_each(services, database_url, amqp_url, vhost):
    """No cache: each of the 2 x 200 requests reads every queue, and a worker opens one connection for all.

    Which worker accepts a connection is the kernel's choice: one worker may serve them all.
    """
    workers = 2
    env = {"RABBITMQ_URL": amqp_url, "HEALTH_CACHE_SECONDS": "0"}
    before = health_connections(vhost)
    with running_gunicorn(database_url, workers=workers, env=env) as (base_url, _):
        first = [requests.get(f"{base_url}/health", timeout=10) for _ in range(BURST)]
        eventually(lambda: health_connections(vhost) - before, timeout=5)
        time.sleep(0.5)
        kept = health_connections(vhost) - before
        everything = broker_connections(vhost)

        second = [requests.get(f"{base_url}/health", timeout=10) for _ in range(BURST)]

        assert {answer.json()["status"] for answer in first + second} == {"healthy"}
        assert 1 <= len(kept) <= workers, "at most one connection per worker"
        assert broker_connections(vhost) == everything, "the second burst opened nothing"
