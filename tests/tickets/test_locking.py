"""The locking layer: bounded waits, released after the transaction, Redis failures survived."""

import threading
import time
import uuid

import pytest
from sqlalchemy import text

from app import metrics
from app.extensions import db, redis_client
from app.tickets.locking import event_key, redis_locks, ticket_key
from app.transaction import transaction

DEAD_REDIS = "redis://127.0.0.1:1/0"


def hold_body(event_id, **fields):
    return {"eventId": event_id, "bookingId": str(uuid.uuid4())} | fields


def test_redis_locks_refuse_to_run_outside_a_transaction(app):
    with app.app_context(), pytest.raises(RuntimeError, match="inside transaction"):
        redis_locks(["ticket:x"])


def test_locks_are_released_when_the_transaction_ends(app):
    key = f"ticket:{uuid.uuid4()}"
    with app.app_context():
        with transaction():
            redis_locks([key])
            assert redis_client.client.exists(key)
        assert not redis_client.client.exists(key)
        with pytest.raises(ZeroDivisionError), transaction():
            redis_locks([key])
            1 / 0  # noqa: B018 - any failure rolls back
        assert not redis_client.client.exists(key)


@pytest.mark.parametrize("strategy", ["ticket", "event"])
def test_a_held_redis_lock_makes_the_competitor_answer_busy_within_the_wait(
    make_app, make_tickets, event_id, ticket_states, strategy
):
    ids = make_tickets(event_id, 2)
    app = make_app(LOCK_STRATEGY=strategy, LOCK_WAIT_SECONDS=0.3)
    key = ticket_key(ids[0]) if strategy == "ticket" else event_key(event_id)
    with app.app_context():
        lock = redis_client.client.lock(key, timeout=10)
        assert lock.acquire(blocking=False)
    try:
        client = app.test_client()
        started = time.monotonic()
        response = client.post("/api/Ticket/hold", json=hold_body(event_id, ticketIds=ids))
        elapsed = time.monotonic() - started
    finally:
        lock.release()
    assert response.status_code == 409
    assert response.headers["Retry-After"] == "1"
    assert "retry" in response.get_json()["message"]
    assert 0.25 <= elapsed < 1.0, "it waited about LOCK_WAIT_SECONDS, no more"
    assert set(ticket_states(event_id).values()) == {("Available", None)}
    assert client.post("/api/Ticket/hold", json=hold_body(event_id, ticketIds=ids)).status_code == 200


def test_a_held_row_lock_makes_the_competitor_answer_busy_within_lock_timeout(
    make_app, make_tickets, event_id, ticket_states
):
    (ticket_id,) = make_tickets(event_id, 1)
    app = make_app(LOCK_STRATEGY="none", DB_LOCK_TIMEOUT_MS=300)
    with app.app_context(), db.engine.connect() as blocker:
        blocker.execute(text("SELECT 1 FROM tickets WHERE id = :id FOR UPDATE"), {"id": ticket_id})
        started = time.monotonic()
        response = app.test_client().patch(f"/api/Ticket/{ticket_id}/status", json={"status": "Sold"})
        elapsed = time.monotonic() - started
        blocker.rollback()
    assert response.status_code == 409 and response.headers["Retry-After"]
    assert 0.3 <= elapsed < 1.5
    assert ticket_states(event_id)[ticket_id] == ("Available", None)


def test_with_redis_unreachable_holds_go_on_and_the_fallback_is_counted(make_app, make_tickets, event_id):
    ids = make_tickets(event_id, 3)
    app = make_app(REDIS_URL=DEAD_REDIS)
    client = app.test_client()
    before = metrics.REDIS_FALLBACKS._value.get()
    assert client.post("/api/Ticket/hold", json=hold_body(event_id, ticketIds=ids[:1])).status_code == 200
    assert client.post("/api/Ticket/hold", json=hold_body(event_id, numberOfTickets=2)).status_code == 200
    assert client.patch(f"/api/Ticket/{ids[0]}/status", json={"status": "Reserved"}).status_code == 200
    assert metrics.REDIS_FALLBACKS._value.get() >= before + 2
    health = client.get("/health")
    assert health.status_code == 200
    assert health.get_json()["status"] == "degraded"
    assert health.get_json()["checks"]["redis"]["status"] == "down"


@pytest.mark.parametrize("redis_url", ["expired", DEAD_REDIS])
def test_without_the_redis_lock_the_database_still_decides(make_app, make_tickets, event_id, ticket_states, redis_url):
    """Locks that expire at once (TTL 1 ms) or never come (Redis gone): 20 buyers, same 3 tickets, one winner."""
    ids = make_tickets(event_id, 3)
    overrides = {"LOCK_TTL_SECONDS": 0.001} if redis_url == "expired" else {"REDIS_URL": redis_url}
    app = make_app(**overrides)
    barrier = threading.Barrier(20)
    answers = []

    def buy():
        client = app.test_client()
        barrier.wait()
        answers.append(client.post("/api/Ticket/hold", json=hold_body(event_id, ticketIds=ids)).status_code)

    threads = [threading.Thread(target=buy) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers.count(200) == 1
    assert set(answers) <= {200, 409}
    owners = {owner for status, owner in ticket_states(event_id).values()}
    assert len(owners) == 1 and None not in owners
