"""Redis behind Sentinel: its master SIGKILLed or demoted under a load of holds, and the settings that name it.

Sales go on with the database's locks while there is no master, nothing is oversold, and the
service (locks, cache, sold-out answers, rate limits, /health) follows the master Sentinel names.
"""

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass

import pytest
import redis
import requests
from limits.storage import storage_from_string
from sqlalchemy import text

import config
from app import metrics
from app.extensions import db
from tests.ha.redis_sentinel import SCRIPT
from tests.servers import running_gunicorn

SEATS = 600
QUANTITY_BUYERS = 4
ID_BUYERS = 4
# While paced, the buyers ask for 100 seats/s at most (20 by quantity), and holds of random ids find more and
# more of them taken: seats are left after the switch however fast the machine, and few enough to sell quickly.
PAUSE_SECONDS = {False: 0.4, True: 0.1}
NOT_ENOUGH = "Not enough"


@dataclass
class Outcome:
    started: float
    booking: str
    asked: list
    status: int
    body: dict


def hold(base_url, event_id, ticket_ids=None):
    """Hold two seats, any (by quantity) or the given ones; return the outcome."""
    booking = str(uuid.uuid4())
    body = {"eventId": event_id, "bookingId": booking}
    body |= {"ticketIds": ticket_ids} if ticket_ids else {"numberOfTickets": 2}
    started = time.monotonic()
    response = requests.post(f"{base_url}/api/Ticket/hold", json=body, timeout=30)
    return Outcome(started, booking, ticket_ids, response.status_code, response.json())


def sold_out(outcome):
    return outcome.status == 409 and not outcome.asked and NOT_ENOUGH in outcome.body["message"]


class Load:
    """Buyers holding two seats at a time, by quantity and by random ids, paced; after `rush()`, by quantity unpaced."""

    def __init__(self, base_url, event_id, seats):
        self.base_url, self.event_id, self.seats = base_url, event_id, seats
        self.outcomes, self.paced, self.done = [], threading.Event(), threading.Event()
        self.paced.set()
        self.buyers = [threading.Thread(target=self.buy, args=(by_ids,))
                       for by_ids in [False] * QUANTITY_BUYERS + [True] * ID_BUYERS]

    def buy(self, by_ids):
        while not self.done.is_set() and (self.paced.is_set() or not by_ids):
            outcome = hold(self.base_url, self.event_id, random.sample(self.seats, 2) if by_ids else None)
            self.outcomes.append(outcome)
            if sold_out(outcome):
                self.done.set()
            elif self.paced.is_set():
                time.sleep(PAUSE_SECONDS[by_ids])

    def __enter__(self):
        for buyer in self.buyers:
            buyer.start()
        return self

    def rush(self):
        """Stop pacing and wait until a quantity hold finds the seats sold out."""
        self.paced.clear()
        self.done.wait(timeout=60)

    def __exit__(self, *exc):
        self.done.set()
        for buyer in self.buyers:
            buyer.join(timeout=30)

    def won(self, after=0.0):
        """Return {booking: held ticket ids} of the holds asked at or after `after` that succeeded."""
        return {o.booking: o.body["ticketIds"] for o in self.outcomes if o.status == 200 and o.started >= after}


def health(base_url):
    return requests.get(f"{base_url}/health", timeout=10).json()


def sentinel_env(setup):
    # A /health answer reflects Redis at that moment; rate limits on, counted in Redis; a sold-out answer kept
    # long enough to be read; no log line per hold.
    return setup.settings | {"LOCK_STRATEGY": "ticket", "HEALTH_CACHE_SECONDS": "0", "RATELIMIT_ENABLED": "true",
                             "CREATE_RATE_LIMIT": "1000/minute", "BULK_RATE_LIMIT": "1000/minute",
                             "SOLD_OUT_SECONDS": "10", "LOG_LEVEL": "WARNING"}


def event_seats(app, event_id):
    with app.app_context():
        return [str(row.id) for row in db.session.execute(
            text("SELECT id FROM tickets WHERE event_id = :e"), {"e": event_id})]


def held_and_audited(app, event_id):
    """Return {booking: held ticket ids} in the database, and how many audit rows moved each ticket to Held."""
    with app.app_context():
        rows = db.session.execute(text("SELECT id, booking_id FROM tickets WHERE event_id = :e AND status = 'Held'"),
                                  {"e": event_id}).all()
        audit = db.session.execute(text(
            "SELECT c.ticket_id, count(*) AS n FROM ticket_status_changes c JOIN tickets t ON t.id = c.ticket_id"
            " WHERE t.event_id = :e AND c.to_status = 'Held' GROUP BY c.ticket_id"), {"e": event_id}).all()
    held = {}
    for row in rows:
        held.setdefault(str(row.booking_id), set()).add(str(row.id))
    return held, {str(row.ticket_id): row.n for row in audit}


def assert_nothing_oversold(app, event_id, load):
    assert {o.status for o in load.outcomes} <= {200, 409}, [o for o in load.outcomes if o.status not in (200, 409)]
    won = load.won()
    promised = [ticket for ids in won.values() for ticket in ids]
    assert len(promised) == len(set(promised)), "a seat promised to two bookings"
    assert all(len(ids) == 2 for ids in won.values())
    assert all(set(o.body["ticketIds"]) == set(o.asked) for o in load.outcomes if o.status == 200 and o.asked)
    held, audited = held_and_audited(app, event_id)
    assert held == {booking: set(ids) for booking, ids in won.items()}, "held seats are the seats promised"
    assert set(audited.values()) == {1} and set(audited) == set(promised), "each held seat moved to Held once"


@pytest.mark.faults
def test_master_killed_under_load_sales_go_on_and_follow_the_new_master(app, database_url, event_id,
                                                                         redis_sentinel):
    setup = redis_sentinel
    old, replica = setup.master_port, setup.replica_port
    with running_gunicorn(database_url, workers=2, env=sentinel_env(setup)) as (base_url, _):
        created = requests.post(f"{base_url}/api/Ticket/bulk", json={"eventId": event_id, "quantity": SEATS},
                                timeout=60)
        assert created.status_code == 201, created.text
        with Load(base_url, event_id, event_seats(app, event_id)) as load:
            time.sleep(1.5)
            os.kill(setup.pid(old), signal.SIGKILL)
            killed = time.monotonic()
            during = health(base_url)
            new = setup.wait_for_new_master(old)
            switched = time.monotonic()
            time.sleep(2)
            after = health(base_url)
            load.rush()
        while not sold_out(last := hold(base_url, event_id)):  # no hold in flight now: the rest, until none is left
            load.outcomes.append(last)
        one_more = requests.post(f"{base_url}/api/Ticket/", json={"eventId": event_id + 1, "quantity": 1}, timeout=10)
        with setup.node(new) as client:
            sold_out_answer = client.get(f"cache:free:{event_id}")
            rate_counts = list(client.scan_iter(match="*ratelimit*"))
            late = list(load.won(after=switched + 1))
            marked = client.exists(*[f"cache:holder:{event_id}:{booking}" for booking in late])

    in_switch = len(load.won(after=killed)) - len(load.won(after=switched))
    print(f"\nno master for {switched - killed:.2f}s: {in_switch} holds succeeded in it,"
          f" {len(load.won(after=switched))} after; {len(load.outcomes)} asked, {len(load.won())} succeeded")
    assert during["status"] == "degraded" and during["checks"]["redis"]["status"] == "down", during
    assert after["checks"]["redis"]["status"] == "up", after
    assert new == replica and not setup.answers(old)
    assert in_switch > 0, "holds went on with the database's locks while there was no master"
    assert late, "holds went on after the switch"
    assert_nothing_oversold(app, event_id, load)
    assert sum(len(ids) for ids in load.won().values()) == SEATS, "demand was above the seats: all were sold"
    assert marked == len(late), "every hold after the switch marked its booking on the new master"
    assert sold_out_answer is not None, "the sold-out answer is kept on the new master"
    assert one_more.status_code == 201 and rate_counts, "the rate limits count on the new master"


@pytest.mark.faults
def test_demoted_master_is_left_for_the_new_one(app, database_url, event_id, redis_sentinel):
    setup = redis_sentinel
    old = setup.master_port
    with running_gunicorn(database_url, workers=2, env=sentinel_env(setup)) as (base_url, _):
        requests.post(f"{base_url}/api/Ticket/bulk", json={"eventId": event_id, "quantity": SEATS}, timeout=60)
        with Load(base_url, event_id, event_seats(app, event_id)) as load:
            time.sleep(1)
            with setup.node(setup.sentinel_ports[0]) as sentinel:
                sentinel.execute_command("SENTINEL", "FAILOVER", "tickets")
            new = setup.wait_for_new_master(old)
            # What Sentinel does once it sees the old master again (up to 10 s later): it answers READONLY from now on.
            with setup.node(old) as demoted:
                demoted.replicaof("127.0.0.1", new)
            setup.wait_for_role(old, "slave")
            demoted_at = time.monotonic()
            time.sleep(1.5)
        still_up = health(base_url)

    assert new == setup.replica_port
    assert still_up["checks"]["redis"]["status"] == "up", still_up
    assert_nothing_oversold(app, event_id, load)
    late = list(load.won(after=demoted_at + 0.5))
    assert late, "holds went on after the master was demoted"
    with setup.node(new) as client:
        assert client.exists(*[f"cache:holder:{event_id}:{booking}" for booking in late]) == len(late)


@pytest.mark.faults
def test_a_replica_answering_readonly_counts_as_redis_down(app, client, make_tickets, event_id, redis_sentinel,
                                                         monkeypatch):
    tickets = make_tickets(event_id, 2)
    fallbacks = metrics.REDIS_FALLBACKS._value.get()
    with redis.Redis("127.0.0.1", redis_sentinel.replica_port, socket_timeout=1) as replica:
        monkeypatch.setitem(app.extensions, "redis", replica)
        monkeypatch.setitem(app.config, "LOCK_STRATEGY", "ticket")

        response = client.post("/api/Ticket/hold", json={"eventId": event_id, "bookingId": str(uuid.uuid4()),
                                                         "ticketIds": tickets})

    assert response.status_code == 200, response.get_json()
    assert sorted(response.get_json()["ticketIds"]) == sorted(tickets)
    assert metrics.REDIS_FALLBACKS._value.get() == fallbacks + 1


@pytest.mark.parametrize(("environment", "sentinels", "master"), [
    ({"REDIS_SENTINELS": "10.0.0.1:26380, 10.0.0.2", "REDIS_SENTINEL_MASTER": "tickets"},
     ["10.0.0.1:26380", "10.0.0.2:26379"], "tickets"),
    ({"ConnectionStrings__Redis": "s1:26379,s2,serviceName=tickets,password=secret"}, ["s1:26379", "s2:26379"],
     "tickets"),
    ({"ConnectionStrings__Redis": "s1,ServiceName=tickets", "REDIS_SENTINEL_MASTER": "other"}, ["s1:26379"], "other"),
    ({"ConnectionStrings__Redis": "r1:6379,password=secret"}, [], None),
    ({"ConnectionStrings__Redis": "s1:26379,serviceName=tickets", "REDIS_URL": "redis://r1:6379/0"}, [], None),
])
def test_sentinels_are_read_from_the_environment(monkeypatch, environment, sentinels, master):
    for name in ("REDIS_SENTINELS", "REDIS_SENTINEL_MASTER", "REDIS_URL", "ConnectionStrings__Redis"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    assert config._redis_sentinels() == (sentinels, master)


def test_the_rate_limits_count_on_the_master_with_its_password_and_database(monkeypatch):
    monkeypatch.setattr(config.TestConfig, "REDIS_SENTINELS", ["s1:26379", "s2:26380"])
    monkeypatch.setattr(config.TestConfig, "REDIS_SENTINEL_MASTER", "tickets")
    monkeypatch.setattr(config.TestConfig, "REDIS_URL", "redis://:s%40cret@unused:6379/2")
    settings = config.TestConfig()

    storage = storage_from_string(settings.RATELIMIT_STORAGE_URI, **settings.RATELIMIT_STORAGE_OPTIONS)

    assert settings.RATELIMIT_STORAGE_URI == "redis+sentinel://s1:26379,s2:26380/tickets"
    assert storage.service_name == "tickets" and storage.use_replicas is False
    master = storage.storage.connection_pool.connection_kwargs
    assert (master["password"], master["db"], master["socket_timeout"]) == ("s@cret", 2, 0.5)
    sentinel = storage.sentinel.sentinels[0].connection_pool.connection_kwargs
    assert (sentinel["host"], sentinel["port"], sentinel["password"]) == ("s1", 26379, None)


@pytest.mark.parametrize(("sentinels", "master"), [
    (["s1:26379", "s2"], "tickets"), (["s1:0"], "tickets"), ([":26379"], "tickets"), (["s1:26379"], None),
])
def test_sentinel_settings_are_checked(monkeypatch, sentinels, master):
    monkeypatch.setattr(config.TestConfig, "REDIS_SENTINELS", sentinels)
    monkeypatch.setattr(config.TestConfig, "REDIS_SENTINEL_MASTER", master)

    with pytest.raises(ValueError, match="REDIS_SENTINEL"):
        config.TestConfig()


def test_the_script_passes_shellcheck():
    shellcheck = os.path.join(os.path.dirname(sys.executable), "shellcheck")
    result = subprocess.run([shellcheck, SCRIPT], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
