"""The read cache: hits after a miss, never stale after a committed change, optional Redis."""

import uuid

from app.cache import TOMBSTONE, invalidate_after_transaction, summary_key, ticket_key
from app.extensions import db, redis_client
from app.transaction import AFTER_TRANSACTION, transaction


def test_a_change_is_seen_at_once_by_the_next_read(app, client, event_id, make_tickets):
    (ticket_id,) = make_tickets(event_id, 1)
    assert client.get(f"/api/Ticket/{ticket_id}").get_json()["status"] == "Available"
    with app.app_context():
        assert redis_client.client.get(ticket_key(ticket_id)) is not None, "the read was cached"
    assert client.patch(f"/api/Ticket/{ticket_id}/status", json={"status": "Reserved"}).status_code == 200
    after = client.get(f"/api/Ticket/{ticket_id}").get_json()
    assert (after["status"], after["version"]) == ("Reserved", 1)


def test_holds_releases_and_deletes_invalidate_the_ticket_and_the_summary(client, event_id, make_tickets):
    ids = make_tickets(event_id, 2)
    assert client.get(f"/api/Ticket/event/{event_id}/summary").get_json()["available"] == 2
    assert client.get(f"/api/Ticket/{ids[0]}").status_code == 200
    booking = str(uuid.uuid4())
    body = {"eventId": event_id, "bookingId": booking, "ticketIds": ids[:1]}
    assert client.post("/api/Ticket/hold", json=body).status_code == 200
    assert client.get(f"/api/Ticket/{ids[0]}").get_json()["bookingId"] == booking
    assert client.get(f"/api/Ticket/event/{event_id}/summary").get_json()["held"] == 1
    batch = {"eventId": event_id, "ticketIds": ids[:1]}
    assert client.post("/api/Ticket/release", json=batch).get_json() is True
    assert client.get(f"/api/Ticket/{ids[0]}").get_json()["status"] == "Available"
    assert client.delete(f"/api/Ticket/{ids[1]}").status_code == 204
    assert client.get(f"/api/Ticket/{ids[1]}").status_code == 404
    assert client.get(f"/api/Ticket/event/{event_id}/summary").get_json()["total"] == 1


def test_a_refused_change_leaves_the_cached_ticket_as_it_is(app, client, event_id, make_tickets):
    (ticket_id,) = make_tickets(event_id, 1)
    assert client.get(f"/api/Ticket/{ticket_id}").get_json()["status"] == "Available"
    assert client.patch(f"/api/Ticket/{ticket_id}/status", json={"status": "Sold"}).status_code == 409
    with app.app_context():
        assert redis_client.client.get(ticket_key(ticket_id)) != b"-", "a refused change invalidates nothing"
    assert client.get(f"/api/Ticket/{ticket_id}").get_json()["status"] == "Available"


def test_the_summary_is_cached_briefly_and_invalidated_by_creation(app, client, event_id, make_tickets):
    make_tickets(event_id, 1)
    assert client.get(f"/api/Ticket/event/{event_id}/summary").get_json()["total"] == 1
    with app.app_context():
        assert redis_client.client.ttl(summary_key(event_id)) <= app.config["CACHE_SUMMARY_SECONDS"]
    make_tickets(event_id, 2)
    assert client.get(f"/api/Ticket/event/{event_id}/summary").get_json()["total"] == 3


def test_reads_go_to_the_database_when_redis_is_down(make_app, event_id, make_tickets):
    (ticket_id,) = make_tickets(event_id, 1)
    client = make_app(REDIS_URL="redis://127.0.0.1:1/0").test_client()
    assert client.get(f"/api/Ticket/{ticket_id}").get_json()["ticketId"] == ticket_id
    assert client.patch(f"/api/Ticket/{ticket_id}/status", json={"status": "Reserved"}).status_code == 200
    assert client.get(f"/api/Ticket/{ticket_id}").get_json()["status"] == "Reserved"
    assert client.get(f"/api/Ticket/event/{event_id}/summary").get_json()["reserved"] == 1


def test_every_invalidation_of_one_transaction_goes_to_redis_together_after_it(app, event_id):
    tickets = [uuid.uuid4() for _ in range(3)]
    with app.app_context():
        with transaction():
            for ticket in tickets:
                with transaction():  # a consumer's batch: each message in a savepoint of its own
                    invalidate_after_transaction(ticket_ids=[ticket], event_ids=[event_id])
            assert len(db.session().info[AFTER_TRANSACTION]) == 1, "one Redis pipeline for the transaction"
            assert redis_client.client.get(ticket_key(tickets[0])) is None, "tombstoned before the commit"
        keys = [ticket_key(ticket) for ticket in tickets] + [summary_key(event_id)]
        assert redis_client.client.mget(keys) == [TOMBSTONE] * 4
        db.session.remove()
