"""POST /api/Ticket/ and /api/Ticket/bulk: shapes, limits, Idempotency-Key."""

import threading

import pytest
import requests

from tests.api.helpers import (
    BASE,
    TICKET_KEYS,
    assert_error,
)


def create(client, event_id, quantity, path="/", key=None):
    headers = {"Idempotency-Key": key} if key else None
    return client.post(f"{BASE}{path}", json={"eventId": event_id, "quantity": quantity}, headers=headers)


def assert_new_ticket(ticket, event_id):
    assert set(ticket) >= TICKET_KEYS
    assert all("_" not in key for key in ticket), "keys must be camelCase"
    assert ticket["eventId"] == event_id
    assert ticket["status"] == "Available"
    assert ticket["bookingId"] is None
    assert ticket["heldUntil"] is None
    assert ticket["version"] == 0
    assert ticket["createdAt"] and ticket["updatedAt"]


def test_create_one_answers_the_ticket_and_its_location(tables, client, event_id):
    response = create(client, event_id, 1)

    assert response.status_code == 201
    ticket = response.get_json()
    assert isinstance(ticket, dict)
    assert_new_ticket(ticket, event_id)
    location = response.headers["Location"]
    assert location.endswith(f"/api/Ticket/{ticket['ticketId']}")
    assert client.get(location).get_json() == ticket
    assert tables.count("tickets", event_id=event_id) == 1


@pytest.mark.parametrize("quantity", [2, 17, 1000])
def test_create_many_answers_an_array(tables, client, event_id, quantity):
    response = create(client, event_id, quantity)

    assert response.status_code == 201
    assert response.mimetype == "application/json"
    tickets = response.get_json()
    assert isinstance(tickets, list)
    assert len(tickets) == quantity
    assert len({ticket["ticketId"] for ticket in tickets}) == quantity
    for ticket in tickets:
        assert_new_ticket(ticket, event_id)
    assert tables.count("tickets", event_id=event_id) == quantity


def test_create_more_than_a_thousand_points_to_bulk(tables, client, event_id):
    response = create(client, event_id, 1001)

    body = assert_error(response, 422, "/bulk")
    assert "quantity" in body["errors"]["json"]
    assert tables.count("tickets") == 0


@pytest.mark.parametrize("path", ["/", "/bulk"])
@pytest.mark.parametrize("quantity", [0, -1])
def test_quantity_must_be_positive(tables, client, event_id, path, quantity):
    response = create(client, event_id, quantity, path)

    body = assert_error(response, 422)
    assert "quantity" in body["errors"]["json"]
    assert tables.count("tickets") == 0


@pytest.mark.parametrize("quantity", [1, 250, 5000])
def test_bulk_create_answers_a_count(tables, client, event_id, quantity):
    response = create(client, event_id, quantity, "/bulk")

    assert response.status_code == 201
    assert response.get_json() == {
        "eventId": event_id,
        "ticketsCreated": quantity,
        "message": f"Successfully created {quantity} tickets for event {event_id}",
    }
    assert tables.count("tickets", event_id=event_id) == quantity
    assert tables.count("tickets", event_id=event_id, status="Available", version=0) == quantity


def test_bulk_create_refuses_more_than_its_limit(tables, client, event_id, app):
    limit = app.config["BULK_MAX_TICKETS"]

    response = create(client, event_id, limit + 1, "/bulk")

    body = assert_error(response, 422, f"{limit:,}")
    assert "quantity" in body["errors"]["json"]
    assert tables.count("tickets") == 0


@pytest.mark.parametrize("quantity", [1, 3])
def test_create_retry_with_same_key_returns_the_first_answer(tables, client, event_id, quantity):
    first = create(client, event_id, quantity, key="order-42")
    second = create(client, event_id, quantity, key="order-42")

    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json()
    assert second.headers.get("Location") == first.headers.get("Location")
    assert tables.count("tickets", event_id=event_id) == quantity
    assert tables.count("idempotency_keys") == 1


def test_bulk_retry_with_same_key_returns_the_first_answer(tables, client, event_id):
    first = create(client, event_id, 40, "/bulk", key="bulk-7")
    second = create(client, event_id, 40, "/bulk", key="bulk-7")

    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json()
    assert tables.count("tickets", event_id=event_id) == 40


@pytest.mark.parametrize("path", ["/", "/bulk"])
@pytest.mark.parametrize("other", [{"quantity": 3}, {"event": 1}])
def test_same_key_with_another_body_is_refused(tables, client, event_id, path, other):
    assert create(client, event_id, 2, path, key="reused").status_code == 201
    before = tables.state()

    response = create(client, event_id + other.get("event", 0), other.get("quantity", 2), path, key="reused")

    assert_error(response, 422, "Idempotency-Key")
    assert tables.state() == before


@pytest.mark.parametrize("key", ["", "   ", "k" * 256])
def test_unusable_idempotency_key_is_refused(tables, client, event_id, key):
    response = client.post(f"{BASE}/", json={"eventId": event_id, "quantity": 1}, headers={"Idempotency-Key": key})

    body = assert_error(response, 422, "Idempotency-Key")
    assert "Idempotency-Key" in body["errors"]["headers"]
    assert tables.count("tickets") == 0


@pytest.mark.parametrize("quantity", [1, 3])
def test_retry_after_the_tickets_were_deleted_is_a_conflict(tables, client, event_id, quantity):
    first = create(client, event_id, quantity, key="gone")
    body = first.get_json()
    deleted = body["ticketId"] if quantity == 1 else body[0]["ticketId"]
    assert client.delete(f"{BASE}/{deleted}").status_code == 204

    response = create(client, event_id, quantity, key="gone")

    assert_error(response, 409, "Idempotency-Key")
    assert tables.count("tickets", event_id=event_id) == quantity - 1


def test_different_keys_create_separately(tables, client, event_id):
    first = create(client, event_id, 2, key="a")
    second = create(client, event_id, 2, key="b")

    assert {t["ticketId"] for t in first.get_json()}.isdisjoint(t["ticketId"] for t in second.get_json())
    assert tables.count("tickets", event_id=event_id) == 4


def send_together(count, send):
    """Call `send(i)` from `count` threads released at once; return the answers in order."""
    barrier = threading.Barrier(count)
    answers = [None] * count

    def run(index):
        barrier.wait()
        answers[index] = send(index)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


@pytest.mark.parametrize(("path", "quantity"), [("/", 5), ("/bulk", 300)])
def test_concurrent_requests_with_one_key_create_one_set(tables, live_server, event_id, path, quantity):
    body = {"eventId": event_id, "quantity": quantity}
    headers = {"Idempotency-Key": f"race-{event_id}"}

    answers = send_together(
        8, lambda _: requests.post(f"{live_server}{BASE}{path}", json=body, headers=headers, timeout=30)
    )

    assert [answer.status_code for answer in answers] == [201] * 8, [a.text for a in answers]
    assert len({answer.text for answer in answers}) == 1
    assert tables.count("tickets", event_id=event_id) == quantity
    assert tables.count("idempotency_keys") == 1
