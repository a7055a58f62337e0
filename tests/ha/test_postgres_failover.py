"""PostgreSQL's primary SIGKILLed under a load of holds over HTTP and over messages (pg_auto_failover).

The monitor promotes the synchronous standby. Meanwhile the API answers 503 with Retry-After,
never a 500 and never a hang; the hold consumer returns what it could not commit to the queue
and the relay publishes what it had not; and all of them go on by themselves on the new
primary: every acknowledged hold is there, no seat is held twice, and every hold request is
answered once.
"""

import collections
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid

import pika
import pytest
import requests
from sqlalchemy import create_engine, text

from tests.databases import ROOT
from tests.ha.hold_load import CLIENT_TIMEOUT, Load
from tests.ha.postgres_formation import SCRIPT
from tests.messaging.broker import Broker, consumer_count, temporary_vhost
from tests.messaging.processes import Fleet
from tests.servers import running_gunicorn

NAMESPACE = "Ticketer.Contracts"
SEATS = 5_000
LOAD_BEFORE_SECONDS = 3
LOAD_AFTER_SECONDS = 3
RECOVERY_SECONDS = 45
ANSWER_SECONDS = 30
TEST_SECONDS = 240  # the formation's start (90 s at most) comes before
ANSWERS = ("TicketHeldEvent", "TicketHoldFailedEvent")
LISTENING_RELAYS = text("SELECT count(*) FROM pg_stat_activity WHERE query = 'LISTEN outbox'")
# Every process of the test: the development config (DATABASE_URL), no rate limits, few log lines.
SETTINGS = {"APP_ENV": "development", "RATELIMIT_ENABLED": "false", "LOG_LEVEL": "WARNING",
            "MESSAGE_NAMESPACE": NAMESPACE}


def _migrate(database_url, env):
    for command in (["create-db"], ["db", "upgrade"]):
        result = subprocess.run([sys.executable, "-m", "flask", *command], cwd=ROOT, capture_output=True, text=True,
                                env=env | {"DATABASE_URL": database_url, "FLASK_APP": "wsgi"}, timeout=60,
                                check=False)
        assert result.returncode == 0, result.stdout + result.stderr


def _libpq_form(formation):
    """The same database as a libpq URL: `postgresql://user@h1:p1,h2:p2/db?target_session_attrs=...`."""
    hosts = ",".join(f"127.0.0.1:{port}" for port in formation.node_ports)
    return f"postgresql://postgres@{hosts}/tickets?target_session_attrs=read-write"


def _npgsql_form(formation):
    """The same database as the original service's Npgsql connection string."""
    hosts = ",".join(f"127.0.0.1:{port}" for port in formation.node_ports)
    return f"Host={hosts};Database=tickets;Username=postgres;Target Session Attributes=read-write"


def _ready_count(amqp_url, database_url):
    def ready_count(role):
        if role == "relay":
            engine = create_engine(database_url)
            try:
                with engine.connect() as connection:
                    return connection.scalar(LISTENING_RELAYS)
            finally:
                engine.dispose()
        return consumer_count(pika.URLParameters(amqp_url), role)

    return ready_count


def _tickets(database_url, event_id):
    """Return `{ticket id: (status, booking id)}` of the event's tickets, read on the primary."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT id, status, booking_id FROM tickets WHERE event_id = :e"),
                                      {"e": event_id}).all()
    finally:
        engine.dispose()
    return {str(row.id): (row.status, row.booking_id and str(row.booking_id)) for row in rows}


def _answers(listener, expected):
    """Wait for an event of each booking expected; return `{booking: {message id: (type, ticket ids)}}` of all."""
    deadline = time.monotonic() + ANSWER_SECONDS
    answers = collections.defaultdict(dict)
    while True:
        listener.drain()
        for message in listener.messages:
            answers[message.booking_id][message.properties.message_id] = (
                message.type_name, tuple(message.body.get("ticketIds") or ()))
        if set(expected) <= set(answers) or time.monotonic() > deadline:
            return answers
        listener.broker.connection.sleep(0.2)


def _load_through_a_failover(formation, base_url, amqp_url, event_id):
    """Hold under load, kill the primary's postgres, hold on until writes work again; return the load and timings."""
    load = Load(base_url, amqp_url, NAMESPACE, event_id)
    load.start()
    try:
        time.sleep(LOAD_BEFORE_SECONDS)
        killed_port = formation.primary()
        killed_at = time.monotonic()
        formation.kill_postgres(killed_port)
        new_port = formation.wait_for_primary(other_than=killed_port, timeout=RECOVERY_SECONDS)
        promoted_at = time.monotonic()
        deadline = killed_at + RECOVERY_SECONDS
        while load.first_success_after(killed_at) is None:
            assert time.monotonic() < deadline, "no hold succeeded after the failover"
            time.sleep(0.1)
        time.sleep(LOAD_AFTER_SECONDS)
    finally:
        load.stop()
    return load, {"killed_at": killed_at, "promoted_at": promoted_at, "killed": killed_port, "new": new_port}


def _check_http(load, tickets, killed_at):
    unanswered = [o for o in load.outcomes if o.status is None]
    assert not unanswered, f"{len(unanswered)} holds got no answer in {CLIENT_TIMEOUT}s: {unanswered[:3]}"
    wrong = [o for o in load.outcomes if o.status not in (200, 503)]
    assert not wrong, f"answers other than 200 and 503: {wrong[:5]}"
    unavailable = [o for o in load.outcomes if o.status == 503]
    assert all(o.retry_after and o.body and o.body["code"] == 503 for o in unavailable), unavailable[:3]
    held = {o.booking: o.body["ticketIds"] for o in load.outcomes if o.status == 200}
    lost = {booking: ids for booking, ids in held.items() if any(tickets.get(t) != ("Held", booking) for t in ids)}
    assert not lost, f"{len(lost)} holds answered 200 are not on the new primary: {list(lost.items())[:3]}"
    before = max((o.finished for o in load.outcomes if o.status == 200 and o.finished < killed_at), default=None)
    assert before is not None, "no hold succeeded before the kill"
    return held, before, len(unavailable)


def _check_messages(answers, requested, tickets):
    """Check every event against the new primary, the REST holds' included; return `{booking: ticket ids}`."""
    unanswered = [booking for booking in requested if booking not in answers]
    assert not unanswered, f"{len(unanswered)} of {len(requested)} hold requests were not answered"
    twice = {booking: [(kind, [(t, tickets.get(t)) for t in ids]) for kind, ids in found.values()]
             for booking, found in answers.items() if len(found) != 1}
    assert not twice, f"bookings answered more than once: {list(twice.items())[:3]}"
    refused = {booking: found for booking, found in answers.items() if next(iter(found.values()))[0] != ANSWERS[0]}
    assert not refused, f"hold requests refused or faulted: {list(refused.items())[:3]}"
    held = {booking: next(iter(found.values()))[1] for booking, found in answers.items()}
    lost = {booking: ids for booking, ids in held.items() if any(tickets.get(t) != ("Held", booking) for t in ids)}
    assert not lost, f"{len(lost)} TicketHeldEvents' holds are not on the new primary: {list(lost.items())[:3]}"
    return held


@contextlib.contextmanager
def time_limit(seconds):
    """Fail the block with TimeoutError after `seconds`, whatever it waits for (the fixtures still clean up)."""

    def expired(_signum, _frame):
        raise TimeoutError(f"the test took more than {seconds}s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_the_script_passes_shellcheck():
    shellcheck = os.path.join(os.path.dirname(sys.executable), "shellcheck")
    result = subprocess.run([shellcheck, str(SCRIPT)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.faults
def test_killing_the_primary_under_load_loses_no_acknowledged_hold_and_the_service_goes_on(postgres_ha, tmp_path):
    with time_limit(TEST_SECONDS):
        load, timing, answers = _run(postgres_ha, tmp_path)
    tickets = _tickets(postgres_ha.database_url, timing["event_id"])
    held_over_http, last_before, unavailable = _check_http(load, tickets, timing["killed_at"])
    announced = _check_messages(answers, load.requested, tickets)
    differ = [b for b, ids in held_over_http.items() if sorted(announced.get(b, ())) != sorted(ids)]
    assert not differ, f"holds answered 200 whose TicketHeldEvent is missing or names other seats: {differ[:3]}"
    seats = [t for ids in announced.values() for t in ids]
    assert len(seats) == len(set(seats)), "a seat was held by two bookings"
    first_after = load.first_success_after(timing["killed_at"]).finished
    slowest = max(o.finished - o.started for o in load.outcomes)
    promoted = timing["promoted_at"] - timing["killed_at"]
    print(f"\nprimary {timing['killed']} killed, {timing['new']} promoted {promoted:.1f}s later; "
          f"no hold succeeded for {first_after - last_before:.1f}s (the last before the kill to the first after); "
          f"over HTTP {len(held_over_http)} holds, {unavailable} answers 503, slowest answer {slowest:.1f}s; "
          f"{len(load.requested)} hold requests over messages, each answered once")


def _run(formation, tmp_path):
    """Serve holds over HTTP and messages on the formation, kill its primary under load; return what happened."""
    url = formation.database_url
    common = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"} | SETTINGS
    _migrate(url, common)
    event_id = uuid.uuid4().int % 2**62 + 1
    with temporary_vhost(f"tickets-postgres-ha-{os.getpid()}") as amqp_url, \
            running_gunicorn(url, workers=2, env=SETTINGS | {"RABBITMQ_URL": amqp_url}) as (base_url, _):
        created = requests.post(f"{base_url}/api/Ticket/bulk", json={"eventId": event_id, "quantity": SEATS},
                                timeout=30)
        assert created.status_code == 201, created.text
        # The message processes log at INFO into their files under tmp_path.
        fleet = Fleet(common | {"RABBITMQ_URL": amqp_url, "LOG_LEVEL": "INFO"}, tmp_path, _ready_count(amqp_url, url))
        listener_broker = Broker(amqp_url, NAMESPACE)
        try:
            fleet.start("hold-tickets", DATABASE_URL=_libpq_form(formation))
            fleet.start("relay", ConnectionStrings__DefaultConnection=_npgsql_form(formation))
            listener = listener_broker.listen(*ANSWERS)
            load, timing = _load_through_a_failover(formation, base_url, amqp_url, event_id)
            # A hold over HTTP is announced too (MESSAGE_CONTRACTS): its TicketHeldEvent is awaited as well.
            answers = _answers(listener, load.requested + [o.booking for o in load.outcomes if o.status == 200])
            again = requests.post(f"{base_url}/api/Ticket/hold", timeout=CLIENT_TIMEOUT,
                                  json={"eventId": event_id, "bookingId": str(uuid.uuid4()), "numberOfTickets": 1})
            assert again.status_code == 200, again.text
            assert all(process.alive() for process in fleet.processes), "a message process died"
        finally:
            listener_broker.close()
            fleet.stop()
    return load, timing | {"event_id": event_id}, answers
