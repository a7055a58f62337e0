"""Layouts: an event's seats made from sections, rows and price categories, once."""

import concurrent.futures
import json
import threading

import pytest
from sqlalchemy import text

from app.extensions import db
from tests.seats.layouts import hall, put_layout, seat_map


def test_a_layout_makes_every_seat_with_its_labels_category_and_price(app, client, event_id):
    layout = hall(rows=2, seats=3) | {"maxTicketsPerCustomer": 4}
    layout["sections"].append({"name": "Balcony", "rows": [{"name": "A", "seats": ["101", "102"], "category": "B"}]})

    response = put_layout(client, event_id, layout)

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["seats"] == 8
    with app.app_context():
        rows = db.session.execute(text(
            "SELECT section, row_label, seat_label, row_rank, seat_position, row_seats, category, price::text, status"
            " FROM tickets WHERE event_id = :e ORDER BY row_rank, seat_position"), {"e": event_id}).all()
    assert [tuple(row) for row in rows] == [
        ("Stalls", "A", "1", 1, 1, 3, "A", "100.00", "Available"),
        ("Stalls", "A", "2", 1, 2, 3, "A", "100.00", "Available"),
        ("Stalls", "A", "3", 1, 3, 3, "A", "100.00", "Available"),
        ("Stalls", "B", "1", 2, 1, 3, "B", "80.00", "Available"),
        ("Stalls", "B", "2", 2, 2, 3, "B", "80.00", "Available"),
        ("Stalls", "B", "3", 2, 3, 3, "B", "80.00", "Available"),
        ("Balcony", "A", "101", 3, 1, 2, "B", "80.00", "Available"),
        ("Balcony", "A", "102", 3, 2, 2, "B", "80.00", "Available"),
    ]


def test_the_layout_reads_back_as_it_was_given(client, event_id):
    layout = hall(rows=2, seats=3)
    put_layout(client, event_id, layout)

    body = client.get(f"/api/Ticket/event/{event_id}/layout").get_json()

    assert body == layout | {"eventId": event_id, "seats": 6, "maxTicketsPerCustomer": None}


def test_the_same_layout_again_changes_nothing(app, client, event_id):
    assert put_layout(client, event_id, hall()).status_code == 201

    again = put_layout(client, event_id, hall())

    assert again.status_code == 200
    assert again.get_json()["seats"] == 30
    assert client.get(f"/api/Ticket/event/{event_id}/summary").get_json()["total"] == 30


def test_another_layout_once_seats_exist_is_a_conflict_and_changes_nothing(client, event_id):
    put_layout(client, event_id, hall())

    response = put_layout(client, event_id, hall(seats=11))

    assert response.status_code == 409
    assert "another layout" in response.get_json()["message"]
    assert client.get(f"/api/Ticket/event/{event_id}/summary").get_json()["total"] == 30


def test_a_layout_for_an_event_with_general_admission_tickets_is_a_conflict(client, event_id, make_tickets):
    make_tickets(event_id, 2)

    response = put_layout(client, event_id, hall())

    assert response.status_code == 409
    assert "without a layout" in response.get_json()["message"]


def _row(name="A", seats=3, category="A"):
    return {"name": name, "seats": seats, "category": category}


@pytest.mark.parametrize(("change", "where"), [
    ({"sections": [{"name": "S", "rows": [_row(seats=["1", "2", "1"])]}]}, "seats"),
    ({"sections": [{"name": "S", "rows": [_row(), _row()]}]}, "rows"),
    ({"sections": [{"name": "S", "rows": [_row()]}, {"name": "S", "rows": [_row()]}]}, "sections"),
    ({"sections": [{"name": "S", "rows": [_row(category="Z")]}]}, "sections"),
    ({"sections": [{"name": "S", "rows": [_row(seats=0)]}]}, "seats"),
    ({"sections": [{"name": "S", "rows": [_row(seats=[])]}]}, "seats"),
    ({"sections": []}, "sections"),
    ({"sections": [{"name": "S", "rows": []}]}, "rows"),
    ({"categories": {"A": {"price": "-1.00"}}}, "price"),
    ({"categories": {"A": {"price": "ten"}}}, "price"),
    ({"currency": "euro"}, "currency"),
    ({"maxTicketsPerCustomer": 0}, "maxTicketsPerCustomer"),
    ({"rows": 3}, "rows"),
])
def test_a_bad_layout_is_422_saying_where_and_makes_nothing(client, event_id, change, where):
    layout = hall() | change

    response = put_layout(client, event_id, layout)

    assert response.status_code == 422, response.get_json()
    assert where in str(response.get_json()["errors"])
    assert client.get(f"/api/Ticket/event/{event_id}/summary").get_json()["total"] == 0
    assert client.get(f"/api/Ticket/event/{event_id}/layout").status_code == 404


def test_a_layout_over_the_seat_limit_is_422(make_app, event_id):
    client = make_app(BULK_MAX_TICKETS=50).test_client()

    response = put_layout(client, event_id, hall(rows=3, seats=20))

    assert response.status_code == 422
    assert "at most 50 seats" in response.get_json()["message"] + str(response.get_json()["errors"])


def test_an_event_without_a_layout_has_no_layout_and_no_seat_map(client, event_id, make_tickets):
    make_tickets(event_id, 1)

    assert client.get(f"/api/Ticket/event/{event_id}/layout").status_code == 404
    assert client.get(f"/api/Ticket/event/{event_id}/seatmap").status_code == 404


def test_the_seat_map_shows_status_and_category_but_no_booking(client, event_id):
    put_layout(client, event_id, hall(rows=2, seats=4))
    booking = "6f1c0d4e-1111-4a8e-9d5b-2a3c4d5e6f70"
    held = client.post("/api/Ticket/hold", json={"eventId": event_id, "bookingId": booking,
                                                 "numberOfTickets": 2, "adjacent": True, "category": "B"})
    assert held.status_code == 200, held.get_json()

    body = client.get(f"/api/Ticket/event/{event_id}/seatmap").get_data(as_text=True)
    seats = seat_map(client, event_id)

    assert "6f1c0d4e" not in body and "bookingId" not in body and "customer" not in body
    assert [section["name"] for section in json.loads(body)["sections"]] == ["Stalls"]
    assert {key: seat["status"] for key, seat in seats.items() if seat["status"] != "Available"} == {
        ("Stalls", "B", "2"): "Held", ("Stalls", "B", "3"): "Held"}
    assert seats["Stalls", "A", "1"]["category"] == "A" and seats["Stalls", "A", "1"]["price"] == "100.00"
    held_ids = sorted(seat["ticketId"] for seat in seats.values() if seat["status"] == "Held")
    assert held_ids == held.get_json()["ticketIds"]


def test_a_seat_reads_with_its_labels_and_a_general_admission_ticket_without_them(client, event_id, make_tickets):
    put_layout(client, event_id, hall(rows=1, seats=1))
    seat = next(iter(seat_map(client, event_id).values()))
    ticket = make_tickets(event_id + 1, 1)[0]

    seated = client.get(f"/api/Ticket/{seat['ticketId']}").get_json()
    general = client.get(f"/api/Ticket/{ticket}").get_json()

    assert (seated["section"], seated["row"], seat["seat"], seated["category"], seated["price"]) == (
        "Stalls", "A", "1", "A", "100.00")
    assert not {"section", "row", "seat", "category", "price"} & set(general)
    streamed = client.get(f"/api/Ticket/event/{event_id}").get_json()
    assert streamed[0]["seat"] == "1" and streamed[0]["price"] == "100.00"


def test_the_summary_counts_each_category(client, event_id):
    put_layout(client, event_id, hall(rows=3, seats=10))
    client.post("/api/Ticket/hold", json={"eventId": event_id, "bookingId": "6f1c0d4e-2222-4a8e-9d5b-2a3c4d5e6f70",
                                          "numberOfTickets": 3, "category": "A"})

    summary = client.get(f"/api/Ticket/event/{event_id}/summary").get_json()

    assert (summary["total"], summary["available"], summary["held"]) == (30, 27, 3)
    assert summary["categories"]["A"] == {"total": 10, "available": 7, "held": 3, "reserved": 0, "sold": 0,
                                          "cancelled": 0}
    assert summary["categories"]["B"]["available"] == 20
    assert sum(c["total"] for c in summary["categories"].values()) == summary["total"]


def test_tickets_from_a_count_are_refused_for_an_event_with_a_layout(client, event_id):
    put_layout(client, event_id, hall())

    created = client.post("/api/Ticket/", json={"eventId": event_id, "quantity": 2})
    bulk = client.post("/api/Ticket/bulk", json={"eventId": event_id, "quantity": 2})

    assert created.status_code == bulk.status_code == 409
    assert "seat layout" in created.get_json()["message"]
    assert client.get(f"/api/Ticket/event/{event_id}/summary").get_json()["total"] == 30


def test_the_same_layout_put_at_once_makes_the_seats_once(make_app, event_id):
    app = make_app(LOCK_STRATEGY="none")  # no Redis lock in front: the database alone decides
    barrier = threading.Barrier(6)

    def put():
        barrier.wait(30)
        return put_layout(app.test_client(), event_id, hall()).status_code

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        codes = sorted(pool.map(lambda _: put(), range(6)))

    assert codes == [200] * 5 + [201]
    assert app.test_client().get(f"/api/Ticket/event/{event_id}/summary").get_json()["total"] == 30
