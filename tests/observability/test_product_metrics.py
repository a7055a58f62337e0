"""Each product metric moves when its event happens."""

import time
import uuid

import pytest
from prometheus_client import REGISTRY

from app.tickets.expiry import release_expired_holds


def value(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def hold(client):
    def post(event_id, **fields):
        body = {"eventId": event_id, "bookingId": str(uuid.uuid4())} | fields
        return client.post("/api/Ticket/hold", json=body)

    return post


def test_creation_counts_tickets_by_source(client, event_id):
    api = value("ticket_tickets_created_total", source="api")
    bulk = value("ticket_tickets_created_total", source="bulk")
    client.post("/api/Ticket/", json={"eventId": event_id, "quantity": 3})
    client.post("/api/Ticket/bulk", json={"eventId": event_id, "quantity": 5})
    assert value("ticket_tickets_created_total", source="api") == api + 3
    assert value("ticket_tickets_created_total", source="bulk") == bulk + 5


def test_holds_are_counted_by_result_and_lock_waits_observed(client, event_id, make_tickets, hold):
    ids = make_tickets(event_id, 2)
    before = {r: value("ticket_holds_total", result=r) for r in ("held", "repeated", "unavailable")}
    waits = value("ticket_lock_wait_seconds_count", strategy="ticket")
    booking = str(uuid.uuid4())
    assert hold(event_id, bookingId=booking, ticketIds=ids[:1]).status_code == 200
    assert hold(event_id, bookingId=booking, ticketIds=ids[:1]).status_code == 200
    assert hold(event_id, numberOfTickets=5).status_code == 409
    assert value("ticket_holds_total", result="held") == before["held"] + 1
    assert value("ticket_holds_total", result="repeated") == before["repeated"] + 1
    assert value("ticket_holds_total", result="unavailable") == before["unavailable"] + 1
    assert value("ticket_lock_wait_seconds_count", strategy="ticket") == waits + 2


def test_reservations_and_releases_are_counted_by_result(client, event_id, make_tickets):
    ids = make_tickets(event_id, 1)
    batch = {"eventId": event_id, "ticketIds": ids}
    reserved, refused = value("ticket_reservations_total", result="done"), value("ticket_reservations_total",
                                                                                  result="refused")
    released = value("ticket_releases_total", result="done")
    assert client.post("/api/Ticket/reserve", json=batch).get_json() is True
    assert client.post("/api/Ticket/reserve", json=batch).get_json() is False
    assert client.post("/api/Ticket/release", json=batch).get_json() is True
    assert value("ticket_reservations_total", result="done") == reserved + 1
    assert value("ticket_reservations_total", result="refused") == refused + 1
    assert value("ticket_releases_total", result="done") == released + 1


def test_the_sweeper_counts_the_holds_it_releases(app, event_id, make_tickets, hold):
    make_tickets(event_id, 3)
    assert hold(event_id, numberOfTickets=3, holdSeconds=1).status_code == 200
    time.sleep(1.1)
    before = value("ticket_holds_expired_total")
    with app.app_context():
        release_expired_holds(batch_size=10)
    assert value("ticket_holds_expired_total") == before + 3


def test_cache_hits_and_misses_are_counted(client, event_id, make_tickets):
    (ticket_id,) = make_tickets(event_id, 1)
    hits, misses = value("ticket_cache_requests_total", cache="ticket", result="hit"), value(
        "ticket_cache_requests_total", cache="ticket", result="miss")
    client.get(f"/api/Ticket/{ticket_id}")
    client.get(f"/api/Ticket/{ticket_id}")
    assert value("ticket_cache_requests_total", cache="ticket", result="miss") == misses + 1
    assert value("ticket_cache_requests_total", cache="ticket", result="hit") == hits + 1


def test_redis_fallbacks_are_counted(make_app, event_id, make_tickets):
    ids = make_tickets(event_id, 1)
    client = make_app(REDIS_URL="redis://127.0.0.1:1/0").test_client()
    before = value("ticket_redis_fallbacks_total")
    body = {"eventId": event_id, "bookingId": str(uuid.uuid4()), "ticketIds": ids}
    assert client.post("/api/Ticket/hold", json=body).status_code == 200
    assert value("ticket_redis_fallbacks_total") == before + 1
