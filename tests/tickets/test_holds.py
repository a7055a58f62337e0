"""Holds through the API: by quantity, by id, repeated, refused, expired."""

import concurrent.futures
import threading
import time
import uuid

import pytest
from sqlalchemy import text

from app.extensions import db
from app.tickets.moves import HOLD_AVAILABLE_SQL


def hold(client, event_id, booking_id=None, **fields):
    body = {"eventId": event_id, "bookingId": str(booking_id or uuid.uuid4())} | fields
    return client.post("/api/Ticket/hold", json=body)


def test_hold_by_quantity_holds_seats_until_the_default_deadline(client, event_id, make_tickets, ticket_states):
    make_tickets(event_id, 5)
    booking = uuid.uuid4()
    response = hold(client, event_id, booking, numberOfTickets=2)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"bookingId", "eventId", "ticketIds", "heldUntil", "totalPrice", "currency"}
    assert body["bookingId"] == str(booking) and body["eventId"] == event_id
    assert len(body["ticketIds"]) == 2
    held = {tid for tid, (status, owner) in ticket_states(event_id).items() if status == "Held"}
    assert held == set(body["ticketIds"])
    ticket = client.get(f"/api/Ticket/{body['ticketIds'][0]}").get_json()
    assert ticket["bookingId"] == str(booking) and ticket["heldUntil"] == body["heldUntil"]
    summary = client.get(f"/api/Ticket/event/{event_id}/summary").get_json()
    assert (summary["available"], summary["held"]) == (3, 2)


def test_hold_by_ids_holds_exactly_those_tickets(client, event_id, make_tickets, ticket_states):
    ids = make_tickets(event_id, 4)
    booking = uuid.uuid4()
    response = hold(client, event_id, booking, ticketIds=ids[1:3], holdSeconds=30)
    assert response.status_code == 200
    assert sorted(response.get_json()["ticketIds"]) == sorted(ids[1:3])
    state = ticket_states(event_id)
    assert [state[i][0] for i in ids] == ["Available", "Held", "Held", "Available"]
    assert {state[i][1] for i in ids[1:3]} == {str(booking)}


@pytest.mark.parametrize("second", [{"numberOfTickets": 3}, {"numberOfTickets": 1}])
def test_a_repeated_hold_returns_the_same_tickets(client, event_id, make_tickets, second, ticket_states):
    make_tickets(event_id, 6)
    booking = uuid.uuid4()
    first = hold(client, event_id, booking, numberOfTickets=2).get_json()
    again = hold(client, event_id, booking, **second)
    assert again.status_code == 200
    assert again.get_json() == first
    assert sum(status == "Held" for status, _ in ticket_states(event_id).values()) == 2


def test_hold_fails_whole_when_not_enough_tickets_and_changes_nothing(client, event_id, make_tickets, ticket_states):
    make_tickets(event_id, 3)
    before = ticket_states(event_id)
    response = hold(client, event_id, numberOfTickets=4)
    assert response.status_code == 409
    body = response.get_json()
    assert "Not enough tickets" in body["message"]
    assert body["errors"] == {"requested": 4, "available": 3}
    assert ticket_states(event_id) == before


def test_hold_by_ids_fails_whole_when_one_ticket_is_taken(client, event_id, make_tickets, ticket_states):
    ids = make_tickets(event_id, 3)
    assert hold(client, event_id, ticketIds=[ids[0]]).status_code == 200
    before = ticket_states(event_id)
    response = hold(client, event_id, ticketIds=ids)
    assert response.status_code == 409
    assert ids[0] in response.get_json()["message"] and "Held" in response.get_json()["message"]
    assert ticket_states(event_id) == before


def test_hold_of_unknown_tickets_is_refused(client, event_id, make_tickets, ticket_states):
    ids = make_tickets(event_id, 1)
    response = hold(client, event_id, ticketIds=[ids[0], str(uuid.uuid4())])
    assert response.status_code == 409
    assert "not found" in response.get_json()["message"]
    assert ticket_states(event_id)[ids[0]][0] == "Available"


def test_hold_of_another_event_s_tickets_is_invalid(client, event_id, make_tickets, ticket_states):
    other = make_tickets(event_id + 1, 1)
    response = hold(client, event_id, ticketIds=other)
    assert response.status_code == 422
    assert ticket_states(event_id + 1)[other[0]][0] == "Available"


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"numberOfTickets": 1, "ticketIds": [str(uuid.uuid4())]},
        {"numberOfTickets": 0},
        {"numberOfTickets": 1001},
        {"numberOfTickets": "2"},
        {"ticketIds": []},
        {"ticketIds": ["not-a-uuid"]},
        {"numberOfTickets": 1, "holdSeconds": 0},
        {"numberOfTickets": 1, "holdSeconds": 3601},
        {"numberOfTickets": 1, "unknown": True},
    ],
)
def test_invalid_hold_requests_are_422_and_change_nothing(client, event_id, make_tickets, fields, ticket_states):
    make_tickets(event_id, 2)
    before = ticket_states(event_id)
    response = hold(client, event_id, **fields)
    assert response.status_code == 422
    assert set(response.get_json()) >= {"code", "status", "message"}
    assert ticket_states(event_id) == before


def test_hold_needs_a_booking_id(client, event_id, make_tickets):
    make_tickets(event_id, 1)
    response = client.post("/api/ticket/hold", json={"eventId": event_id, "numberOfTickets": 1})
    assert response.status_code == 422
    assert "bookingId" in response.get_json()["errors"]["json"]


def test_an_expired_hold_can_be_taken_by_another_booking_at_once(client, event_id, make_tickets, ticket_states):
    ids = make_tickets(event_id, 2)
    first, second = uuid.uuid4(), uuid.uuid4()
    assert hold(client, event_id, first, ticketIds=ids, holdSeconds=1).status_code == 200
    assert hold(client, event_id, second, ticketIds=ids).status_code == 409
    time.sleep(1.1)
    taken = hold(client, event_id, second, ticketIds=ids)
    assert taken.status_code == 200
    assert {owner for _, owner in ticket_states(event_id).values()} == {str(second)}
    by_quantity = uuid.uuid4()
    assert hold(client, event_id, by_quantity, numberOfTickets=1).status_code == 409


def test_an_expired_hold_counts_as_available_for_quantity_holds_and_the_summary(client, event_id, make_tickets):
    make_tickets(event_id, 2)
    assert hold(client, event_id, numberOfTickets=2, holdSeconds=1).status_code == 200
    assert client.get(f"/api/Ticket/event/{event_id}/summary").get_json()["available"] == 0
    time.sleep(1.1)
    assert client.get(f"/api/Ticket/event/{event_id}/summary").get_json()["available"] == 2
    assert hold(client, event_id, numberOfTickets=2).status_code == 200


def test_a_hold_is_owned_reserve_and_release_honour_the_owner(client, event_id, make_tickets, ticket_states):
    ids = make_tickets(event_id, 2)
    owner, stranger = str(uuid.uuid4()), str(uuid.uuid4())
    assert hold(client, event_id, owner, ticketIds=ids).status_code == 200
    batch = {"eventId": event_id, "ticketIds": ids}
    assert client.post("/api/Ticket/reserve", json=batch | {"bookingId": stranger}).get_json() is False
    assert client.post("/api/Ticket/release", json=batch | {"bookingId": stranger}).get_json() is False
    assert client.post("/api/Ticket/reserve", json=batch).get_json() is False
    assert client.post("/api/Ticket/reserve", json=batch | {"bookingId": owner}).get_json() is True
    assert {status for status, _ in ticket_states(event_id).values()} == {"Reserved"}
    assert client.post("/api/Ticket/release", json=batch | {"bookingId": owner}).get_json() is True
    assert ticket_states(event_id) == {i: ("Available", None) for i in ids}


def test_every_hold_is_audited(client, event_id, make_tickets):
    ids = make_tickets(event_id, 1)
    booking = str(uuid.uuid4())
    assert hold(client, event_id, booking, ticketIds=ids).status_code == 200
    history = client.get(f"/api/Ticket/{ids[0]}/history").get_json()
    assert [(h["fromStatus"], h["toStatus"], h["bookingId"], h["source"]) for h in history] == [
        ("Available", "Held", booking, "api")
    ]


def test_patch_with_a_booking_id_cannot_take_another_booking_s_ticket(client, event_id, make_tickets, ticket_states):
    ids = make_tickets(event_id, 1)
    owner, stranger = str(uuid.uuid4()), str(uuid.uuid4())
    assert hold(client, event_id, owner, ticketIds=ids).status_code == 200
    for status in ("Held", "Reserved"):
        response = client.patch(f"/api/Ticket/{ids[0]}/status", json={"status": status, "bookingId": stranger})
        assert response.status_code == 409
        assert "another booking" in response.get_json()["message"]
    assert ticket_states(event_id)[ids[0]] == ("Held", owner)
    response = client.patch(f"/api/Ticket/{ids[0]}/status", json={"status": "Reserved", "bookingId": owner})
    assert response.status_code == 200
    assert ticket_states(event_id)[ids[0]] == ("Reserved", owner)


def test_quantity_holds_pick_seats_through_an_index_on_a_big_event(app, client, event_id):
    """A sequential scan would walk past every sold seat: the pick must go through an index."""
    client.post("/api/Ticket/bulk", json={"eventId": event_id, "quantity": 50_000})
    assert hold(client, event_id, numberOfTickets=2).status_code == 200
    with app.app_context():
        db.session.execute(text("ANALYZE tickets"))
        source = str(HOLD_AVAILABLE_SQL).split("WITH old AS (", 1)[1].split("), changed AS", 1)[0]
        plan = db.session.execute(text(f"EXPLAIN {source}"), {"event_id": event_id, "count": 2}).scalars().all()
        db.session.rollback()
    assert not any("Seq Scan" in line for line in plan), plan
    assert any("Index Scan" in line for line in plan), plan


@pytest.mark.parametrize("by_ids", [False, True], ids=["by-quantity", "by-ids"])
def test_one_booking_racing_itself_ends_with_one_hold(make_app, make_tickets, event_id, by_ids):
    ids = make_tickets(event_id, 40)
    app = make_app(LOCK_STRATEGY="none")  # the database alone decides
    booking = str(uuid.uuid4())
    barrier = threading.Barrier(8)

    def hold_once(n):
        body = {"eventId": event_id, "bookingId": booking}
        body |= {"ticketIds": ids[4 * n:4 * n + 4]} if by_ids else {"numberOfTickets": 4}
        barrier.wait(30)
        return app.test_client().post("/api/Ticket/hold", json=body)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(hold_once, range(8)))

    assert {answer.status_code for answer in answers} <= {200, 409}
    held = {tuple(answer.get_json()["ticketIds"]) for answer in answers if answer.status_code == 200}
    assert len(held) == 1, "one booking got two holds"
    summary = app.test_client().get(f"/api/Ticket/event/{event_id}/summary").get_json()
    assert summary["held"] == 4
