"""A sold-out event answers quantity holds from Redis: no database statement per refusal, never stale for long."""

import contextlib
import time
import uuid

import pytest
from sqlalchemy import event, text

from app.cache import TOMBSTONE_MS, free_key
from app.errors import HoldUnavailable
from app.extensions import db, redis_client
from app.tickets.holds import hold_tickets
from app.transaction import transaction


@contextlib.contextmanager
def statements(app):
    """Count the SQL statements the app sends inside the block; yield the running list."""
    sent = []

    def count(_connection, _cursor, statement, *_args):
        sent.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)


def hold(client, event_id, count=2, booking=None, **fields):
    body = {"eventId": event_id, "bookingId": str(booking or uuid.uuid4()), "numberOfTickets": count} | fields
    return client.post("/api/Ticket/hold", json=body)


@pytest.fixture
def sold_out(client, make_tickets, event_id):
    """An event of 3 seats, 2 held by a first booking, and a refused hold that left its answer in Redis."""
    make_tickets(event_id, 3)
    time.sleep(TOMBSTONE_MS / 1000)  # the new tickets keep a sold-out answer out for the tombstone's life
    first = uuid.uuid4()
    assert hold(client, event_id, booking=first).status_code == 200
    assert hold(client, event_id).status_code == 409
    return first


def test_a_refusal_after_a_sold_out_answer_sends_no_statement(app, client, event_id, sold_out):
    with app.app_context():
        assert redis_client.client.get(free_key(event_id)) == b"1"
    with statements(app) as sent:
        refused = hold(client, event_id)
    assert refused.status_code == 409
    assert refused.get_json()["errors"] == {"requested": 2, "available": 1}
    assert sent == []


def test_a_hold_asking_for_no_more_than_is_free_still_goes_to_the_database(app, client, event_id, sold_out):
    with statements(app) as sent:
        assert hold(client, event_id, count=1).status_code == 200
    assert sent


def test_a_release_offers_the_seats_again_at_once(client, event_id, sold_out):
    tickets = [t["ticketId"] for t in client.get(f"/api/Ticket/event/{event_id}").get_json() if t["status"] == "Held"]
    released = client.post("/api/Ticket/release", json={"eventId": event_id, "ticketIds": tickets})
    assert released.get_json() is True
    assert hold(client, event_id).status_code == 200


def test_the_answer_runs_out_by_itself(make_app, make_tickets, event_id):
    app = make_app(SOLD_OUT_SECONDS=0.3)
    client = app.test_client()
    make_tickets(event_id, 1)
    time.sleep(TOMBSTONE_MS / 1000)
    assert hold(client, event_id, count=2).status_code == 409
    with app.app_context():  # a seat freed without a commit the cache hears of
        db.session.execute(text("INSERT INTO tickets (event_id) VALUES (:e)"), {"e": event_id})
        db.session.commit()
        db.session.remove()
    assert hold(client, event_id, count=2).status_code == 409, "answered from Redis while the answer lives"
    time.sleep(0.4)
    assert hold(client, event_id, count=2).status_code == 200


def test_a_booking_that_holds_seats_gets_them_back_however_sold_out(client, event_id, sold_out):
    again = hold(client, event_id, booking=sold_out)
    assert again.status_code == 200
    assert len(again.get_json()["ticketIds"]) == 2


def test_a_hold_by_ids_is_never_refused_from_the_answer(app, client, event_id, sold_out):
    free = [t["ticketId"] for t in client.get(f"/api/Ticket/event/{event_id}").get_json() if t["status"] == "Available"]
    with app.app_context():
        redis_client.client.set(free_key(event_id), 0, ex=60)  # an answer that says nothing is free
    by_ids = client.post("/api/Ticket/hold", json={"eventId": event_id, "bookingId": str(uuid.uuid4()),
                                                   "ticketIds": free})
    assert by_ids.status_code == 200


def test_without_redis_the_database_answers(make_app, make_tickets, event_id):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    client = app.test_client()
    make_tickets(event_id, 1)
    time.sleep(TOMBSTONE_MS / 1000)
    assert hold(client, event_id).status_code == 409
    with statements(app) as sent:
        assert hold(client, event_id).status_code == 409
    assert sent, "the refusal came from the database"


def test_off_when_its_lifetime_is_zero(make_app, make_tickets, event_id):
    app = make_app(SOLD_OUT_SECONDS=0)
    client = app.test_client()
    make_tickets(event_id, 1)
    time.sleep(TOMBSTONE_MS / 1000)
    assert hold(client, event_id).status_code == 409
    with app.app_context():
        assert redis_client.client.get(free_key(event_id)) is None


def test_holds_of_an_event_on_sale_do_not_ask_redis_for_an_answer(app, client, make_tickets, event_id, monkeypatch):
    make_tickets(event_id, 4)
    asked = []
    with app.app_context():
        redis_type = type(redis_client.client)
    monkeypatch.setattr(redis_type, "mget", lambda _self, *keys: asked.append(keys) or [None] * len(keys))
    assert hold(client, event_id).status_code == 200
    assert asked == []


def test_a_refusal_in_a_batch_that_rolls_back_leaves_no_answer_and_one_that_commits_does(app, make_tickets, event_id):
    make_tickets(event_id, 4)
    time.sleep(TOMBSTONE_MS / 1000)

    def batch(fail):
        with transaction():  # a consumer's batch: the refusal saw the batch's own hold
            hold_tickets(event_id=event_id, booking_id=uuid.uuid4(), number_of_tickets=2)
            with pytest.raises(HoldUnavailable):
                hold_tickets(event_id=event_id, booking_id=uuid.uuid4(), number_of_tickets=3)
            if fail:
                raise RuntimeError("the batch rolls back")

    with app.app_context():
        with pytest.raises(RuntimeError):
            batch(fail=True)
        assert redis_client.client.get(free_key(event_id)) is None
        batch(fail=False)
        assert redis_client.client.get(free_key(event_id)) == b"2"
        db.session.remove()
