"""Seat layouts for the page tests and the screenshot: put them on a live server, move their seats through the API."""

import uuid

import requests

BASE = "/api/Ticket"


def layout_seats(layout):
    """Return (section, row, seat, category) for every seat of a layout body, in the seat map's order."""
    seats = []
    for section in layout["sections"]:
        for row in section["rows"]:
            labels = row["seats"]
            if isinstance(labels, int):
                labels = [str(number) for number in range(1, labels + 1)]
            seats += [(section["name"], row["name"], label, row["category"]) for label in labels]
    return seats


def put_layout(base_url, event_id, layout):
    """Give an event its seat layout (its tickets are made with it)."""
    response = requests.put(f"{base_url}{BASE}/event/{event_id}/layout", json=layout, timeout=30)
    assert response.status_code == 201, response.text


def seat_map(base_url, event_id):
    """Return the event's seat map JSON."""
    response = requests.get(f"{base_url}{BASE}/event/{event_id}/seatmap", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def ticket_ids(seatmap):
    """Return the ticket id of every seat of a seat map, in its order."""
    return [seat["ticketId"] for section in seatmap["sections"] for row in section["rows"] for seat in row["seats"]]


def hold(base_url, event_id, ids):
    """Hold the tickets `ids` for a new booking; return the booking id."""
    booking_id = str(uuid.uuid4())
    body = {"eventId": event_id, "bookingId": booking_id, "ticketIds": list(ids)}
    response = requests.post(f"{base_url}{BASE}/hold", json=body, timeout=30)
    assert response.status_code == 200, response.text
    return booking_id


def reserve(base_url, event_id, ids):
    """Reserve the tickets `ids` for a new booking (the development endpoint); return the booking id."""
    booking_id = str(uuid.uuid4())
    body = {"eventId": event_id, "bookingId": booking_id, "ticketIds": list(ids)}
    response = requests.post(f"{base_url}{BASE}/reserve", json=body, timeout=30)
    assert response.status_code == 200 and response.json() is True, response.text
    return booking_id


def set_status(base_url, ticket_id, status):
    """Move one ticket to `status` (Sold needs it Reserved first)."""
    response = requests.patch(f"{base_url}{BASE}/{ticket_id}/status", json={"status": status}, timeout=30)
    assert response.status_code == 200, response.text
