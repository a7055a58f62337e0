"""Holds of a seated event: by category, of adjacent seats (the best block), and within a customer's limit."""

import time
import uuid

import pytest
from sqlalchemy import text

from app.cache import TOMBSTONE_MS, free_key
from app.extensions import db, redis_client
from tests.seats.layouts import hall, put_layout, seat_map
from tests.tickets.test_sold_out import statements


def hold(client, event_id, count=2, booking=None, **fields):
    body = {"eventId": event_id, "bookingId": str(booking or uuid.uuid4()), "numberOfTickets": count} | fields
    return client.post("/api/Ticket/hold", json=body)


def held_seats(client, event_id, response):
    """Return the (row, seat) labels of the seats a hold answer names, in seat order."""
    by_id = {seat["ticketId"]: key for key, seat in seat_map(client, event_id).items()}
    return sorted((by_id[ticket][1], int(by_id[ticket][2])) for ticket in response.get_json()["ticketIds"])


@pytest.fixture
def seated(client, event_id):
    """A hall of 3 rows of 10 seats: row A in category A (100.00), rows B and C in B (80.00)."""
    assert put_layout(client, event_id, hall(rows=3, seats=10)).status_code == 201
    return event_id


def test_adjacent_seats_are_the_best_block_front_row_first_then_nearest_the_centre(client, seated):
    first = hold(client, seated, 4, adjacent=True)
    second = hold(client, seated, 4, adjacent=True)
    third = hold(client, seated, 3, adjacent=True)

    assert held_seats(client, seated, first) == [("A", 4), ("A", 5), ("A", 6), ("A", 7)]
    assert held_seats(client, seated, second) == [("B", 4), ("B", 5), ("B", 6), ("B", 7)]  # row A has 3 + 3 left
    assert held_seats(client, seated, third) == [("A", 1), ("A", 2), ("A", 3)]  # as far from the centre as 8-10


def test_a_block_never_spans_a_gap(client, seated):
    row_a = {int(key[2]): seat["ticketId"] for key, seat in seat_map(client, seated).items() if key[1] == "A"}
    taken = [row_a[3], row_a[8]]  # row A: free 1-2, 4-7, 9-10
    assert client.post("/api/Ticket/hold", json={"eventId": seated, "bookingId": str(uuid.uuid4()),
                                                 "ticketIds": taken}).status_code == 200

    four = hold(client, seated, 4, adjacent=True, category="A")
    two = hold(client, seated, 2, adjacent=True, category="A")
    refused = hold(client, seated, 3, adjacent=True, category="A")

    assert held_seats(client, seated, four) == [("A", 4), ("A", 5), ("A", 6), ("A", 7)]
    assert held_seats(client, seated, two) in ([("A", 1), ("A", 2)], [("A", 9), ("A", 10)])
    assert refused.status_code == 409
    assert "No 3 adjacent seats of category A" in refused.get_json()["message"]
    assert refused.get_json()["errors"]["available"] == 2


def test_a_category_hold_takes_only_seats_of_that_category_at_its_price(client, seated):
    response = hold(client, seated, 3, category="A")

    assert response.status_code == 200
    assert {row for row, _ in held_seats(client, seated, response)} == {"A"}
    assert (response.get_json()["totalPrice"], response.get_json()["currency"]) == ("300.00", "EUR")


def test_a_general_admission_hold_costs_the_default_price(client, event_id, make_tickets):
    make_tickets(event_id, 3)

    response = hold(client, event_id, 3)

    assert (response.get_json()["totalPrice"], response.get_json()["currency"]) == ("75.00", "USD")


def test_more_than_a_category_has_is_refused_and_the_answer_is_kept_per_category(app, client, seated):
    assert hold(client, seated, 10, category="A").status_code == 200
    time.sleep(TOMBSTONE_MS / 1000)

    refused = hold(client, seated, 1, category="A")
    with statements(app) as sent:
        again = hold(client, seated, 2, adjacent=True, category="A")
    other = hold(client, seated, 2, category="B")

    assert refused.status_code == 409 and "of category A" in refused.get_json()["message"]
    assert again.status_code == 409 and sent == []
    assert other.status_code == 200
    with app.app_context():
        assert redis_client.client.get(free_key(seated, "A")) == b"0"
        assert redis_client.client.get(free_key(seated)) is None


def test_a_release_of_a_category_s_seat_offers_it_again_at_once(client, seated):
    booking = uuid.uuid4()
    held = hold(client, seated, 10, booking=booking, category="A").get_json()["ticketIds"]
    time.sleep(TOMBSTONE_MS / 1000)
    assert hold(client, seated, 1, category="A").status_code == 409

    released = client.post("/api/Ticket/release", json={"eventId": seated, "ticketIds": held[:2],
                                                        "bookingId": str(booking)})

    assert released.get_json() is True
    assert hold(client, seated, 2, category="A").status_code == 200


@pytest.mark.parametrize(("fields", "where"), [
    ({"category": "Z"}, "category"),
    ({"adjacent": "yes"}, "adjacent"),
    ({"category": ""}, "category"),
])
def test_bad_seating_requests_are_422_and_change_nothing(client, seated, fields, where):
    response = hold(client, seated, 2, **fields)

    assert response.status_code == 422, response.get_json()
    assert where in str(response.get_json())
    assert client.get(f"/api/Ticket/event/{seated}/summary").get_json()["held"] == 0


def test_category_and_adjacent_need_a_layout_and_a_quantity(client, event_id, make_tickets, seated):
    ids = make_tickets(event_id + 1, 2)

    no_layout = hold(client, event_id + 1, 2, adjacent=True)
    with_ids = client.post("/api/Ticket/hold", json={"eventId": event_id + 1, "bookingId": str(uuid.uuid4()),
                                                     "ticketIds": ids, "category": "A"})

    assert no_layout.status_code == 422 and "no seat layout" in no_layout.get_json()["message"]
    assert with_ids.status_code == 422


def test_an_expired_hold_inside_a_block_counts_as_free(app, client, seated):
    row_a = {int(key[2]): seat["ticketId"] for key, seat in seat_map(client, seated).items() if key[1] == "A"}
    body = {"eventId": seated, "bookingId": str(uuid.uuid4()), "ticketIds": list(row_a.values()), "holdSeconds": 1}
    assert client.post("/api/Ticket/hold", json=body).status_code == 200
    with app.app_context():
        db.session.execute(text("UPDATE tickets SET held_until = now() - interval '1 second' WHERE id = ANY(:ids)"),
                           {"ids": [uuid.UUID(row_a[n]) for n in range(1, 11)]})
        db.session.execute(text("UPDATE tickets SET status = 'Sold', held_until = NULL, booking_id = NULL"
                                " WHERE event_id = :e AND category = 'B'"), {"e": seated})
        db.session.commit()

    response = hold(client, seated, 10, adjacent=True)

    assert response.status_code == 200
    assert held_seats(client, seated, response) == [("A", n) for n in range(1, 11)]


def test_a_repeated_adjacent_hold_returns_the_same_block(client, seated):
    booking = uuid.uuid4()
    first = hold(client, seated, 3, booking=booking, adjacent=True)
    second = hold(client, seated, 3, booking=booking, adjacent=True)

    assert first.get_json()["ticketIds"] == second.get_json()["ticketIds"]
    assert client.get(f"/api/Ticket/event/{seated}/summary").get_json()["held"] == 3


def test_a_customer_over_the_event_s_limit_is_refused_with_the_limit_and_what_they_have(client, event_id):
    put_layout(client, event_id, hall(maxTicketsPerCustomer=4))
    assert hold(client, event_id, 3, customerId="ann").status_code == 200

    refused = hold(client, event_id, 2, customerId="ann")
    other = hold(client, event_id, 2, customerId="bob")
    fits = hold(client, event_id, 1, customerId="ann")

    assert refused.status_code == 409
    assert refused.get_json()["errors"] == {"requested": 2, "available": 1, "limit": 4, "has": 3}
    assert "at most 4" in refused.get_json()["message"] and "has 3" in refused.get_json()["message"]
    assert other.status_code == 200 and fits.status_code == 200


def test_the_limit_counts_reserved_seats_and_forgets_released_ones(client, event_id):
    put_layout(client, event_id, hall(maxTicketsPerCustomer=4))
    booking = uuid.uuid4()
    held = hold(client, event_id, 4, booking=booking, customerId="ann").get_json()["ticketIds"]
    reserve = client.post("/api/Ticket/reserve", json={"eventId": event_id, "ticketIds": held,
                                                       "bookingId": str(booking)})
    assert reserve.get_json() is True

    assert hold(client, event_id, 1, customerId="ann").status_code == 409
    client.post("/api/Ticket/release", json={"eventId": event_id, "ticketIds": held[:2], "bookingId": str(booking)})
    assert hold(client, event_id, 2, customerId="ann").status_code == 200


def test_without_an_event_limit_the_configured_one_applies(make_app, make_tickets, event_id):
    client = make_app(MAX_TICKETS_PER_CUSTOMER=2).test_client()
    make_tickets(event_id, 5)

    assert hold(client, event_id, 2, customerId="ann").status_code == 200
    assert hold(client, event_id, 1, customerId="ann").status_code == 409
    assert hold(client, event_id, 3).status_code == 200  # no customer, no limit
