"""Reading tickets: the paginated list, one ticket, an event's stream, its summary, a history."""

import json
import uuid
from datetime import datetime

import pytest

from tests.api.helpers import (
    BASE,
    HISTORY_KEYS,
    MISSING_ID,
    STATUSES,
    TICKET_KEYS,
    assert_error,
    history,
    patch_status,
    walk_to,
)

TIMESTAMPS = ("heldUntil", "createdAt", "updatedAt")


def instant(value):
    return value and datetime.fromisoformat(value)


def assert_same_ticket(listed, single):
    """Compare two renderings of a ticket; timestamps by value (their digits may be trimmed)."""
    assert set(listed) >= TICKET_KEYS
    for key in TICKET_KEYS - set(TIMESTAMPS):
        assert listed[key] == single[key], key
    for key in TIMESTAMPS:
        assert instant(listed[key]) == instant(single[key]), key


@pytest.fixture
def two_events(make_tickets, event_id):
    """Three tickets of one event and two of the next one: `{event_id: [ids]}`."""
    return {event_id: make_tickets(event_id, 3), event_id + 1: make_tickets(event_id + 1, 2)}


def pagination(response):
    return json.loads(response.headers["X-Pagination"])


def test_list_is_paginated_in_event_and_id_order(client, two_events):
    expected = [
        (event, ticket) for event in sorted(two_events) for ticket in sorted(two_events[event])
    ]

    pages = [client.get(f"{BASE}/?page={page}&page_size=2") for page in (1, 2, 3)]

    assert [response.status_code for response in pages] == [200] * 3
    listed = [(t["eventId"], t["ticketId"]) for response in pages for t in response.get_json()]
    assert listed == expected
    assert pagination(pages[0]) == {
        "total": 5, "total_pages": 3, "first_page": 1, "last_page": 3, "page": 1, "next_page": 2,
    }
    assert pagination(pages[2])["previous_page"] == 2
    assert "next_page" not in pagination(pages[2])


def test_list_without_paging_answers_the_first_page(client, two_events):
    response = client.get(f"{BASE}/")

    assert response.status_code == 200
    assert len(response.get_json()) == 5
    assert pagination(response)["total"] == 5
    assert set(response.get_json()[0]) >= TICKET_KEYS


def test_list_beyond_the_last_page_is_empty(client, two_events):
    response = client.get(f"{BASE}/?page=4&page_size=2")

    assert response.status_code == 200
    assert response.get_json() == []


@pytest.mark.parametrize("query", [f"page={10**20}", f"page={2**63 // 1000}&page_size=1000"])
def test_list_far_beyond_the_last_page_is_empty(client, two_events, query):
    response = client.get(f"{BASE}/?{query}")

    assert response.status_code == 200
    assert response.get_json() == []


def test_list_filters_by_event_and_status(client, two_events, event_id):
    held = two_events[event_id][0]
    walk_to(client, held, "Held")

    by_event = client.get(f"{BASE}/?eventId={event_id + 1}")
    by_status = client.get(f"{BASE}/?status=Held")
    both = client.get(f"{BASE}/?eventId={event_id}&status=Available")

    assert {t["ticketId"] for t in by_event.get_json()} == set(two_events[event_id + 1])
    assert pagination(by_event)["total"] == 2
    assert [t["ticketId"] for t in by_status.get_json()] == [held]
    assert {t["ticketId"] for t in both.get_json()} == set(two_events[event_id][1:])
    assert pagination(both)["total"] == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("eventId=0", "eventId"),
        ("eventId=-3", "eventId"),
        ("eventId=abc", "eventId"),
        (f"eventId={2**63}", "eventId"),
        ("status=held", "status"),
        ("status=Gone", "status"),
        ("page=0", "page"),
        ("page=x", "page"),
        ("page_size=0", "page_size"),
        ("page_size=1001", "page_size"),
    ],
)
def test_list_refuses_bad_query(client, query, field):
    body = assert_error(client.get(f"{BASE}/?{query}"), 422)

    assert field in body["errors"]["query"]


def test_get_one_answers_the_ticket_with_its_version_as_etag(client, make_tickets, event_id):
    [ticket_id] = make_tickets(event_id)

    first = client.get(f"{BASE}/{ticket_id}")
    patch_status(client, ticket_id, "Reserved")
    second = client.get(f"{BASE}/{ticket_id}")

    assert first.status_code == second.status_code == 200
    assert first.headers["ETag"] == '"0"'
    assert second.headers["ETag"] == '"1"'
    ticket = second.get_json()
    assert set(ticket) >= TICKET_KEYS
    assert (ticket["ticketId"], ticket["eventId"], ticket["status"], ticket["version"]) == (
        ticket_id, event_id, "Reserved", 1,
    )


def test_get_unknown_ticket_is_404(client):
    assert_error(client.get(f"{BASE}/{MISSING_ID}"), 404, MISSING_ID)


def test_event_stream_lists_every_ticket_of_the_event_in_id_order(client, two_events, event_id):
    held = two_events[event_id][1]
    assert patch_status(client, held, "Held", bookingId=str(uuid.uuid4())).status_code == 200

    response = client.get(f"{BASE}/event/{event_id}", buffered=False)

    assert response.is_streamed
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    tickets = json.loads(response.get_data(as_text=True))
    assert [t["ticketId"] for t in tickets] == sorted(two_events[event_id])
    for ticket in tickets:
        assert_same_ticket(ticket, client.get(f"{BASE}/{ticket['ticketId']}").get_json())
    assert [ticket["status"] for ticket in tickets].count("Held") == 1


def test_event_stream_of_an_event_without_tickets_is_an_empty_array(client, event_id):
    response = client.get(f"{BASE}/event/{event_id}")

    assert response.status_code == 200
    assert json.loads(response.get_data(as_text=True)) == []


def test_event_stream_filters_by_status(client, make_tickets, event_id):
    tickets = make_tickets(event_id, 4)
    for ticket_id in tickets[:2]:
        walk_to(client, ticket_id, "Sold")

    sold = client.get(f"{BASE}/event/{event_id}?status=Sold").get_json()
    available = client.get(f"{BASE}/event/{event_id}?status=Available").get_json()

    assert [t["ticketId"] for t in sold] == sorted(tickets[:2])
    assert all(t["status"] == "Sold" and t["version"] == 2 for t in sold)
    assert [t["ticketId"] for t in available] == sorted(tickets[2:])


@pytest.mark.parametrize(
    ("query", "window"),
    [
        ("page=1&page_size=2", slice(0, 2)),
        ("page=2&page_size=2", slice(2, 4)),
        ("page=3&page_size=2", slice(4, 5)),
        ("page=4&page_size=2", slice(5, 5)),
        ("page_size=3", slice(0, 3)),
        ("page=1", slice(0, 5)),
        ("page=2", slice(5, 5)),
    ],
)
def test_event_stream_pages(client, make_tickets, event_id, query, window):
    tickets = sorted(make_tickets(event_id, 5))

    response = client.get(f"{BASE}/event/{event_id}?{query}")

    assert response.status_code == 200
    assert [t["ticketId"] for t in response.get_json()] == tickets[window]


@pytest.mark.parametrize("query", [f"page={10**20}", f"page={2**63 // 1000}&page_size=1000"])
def test_event_stream_far_beyond_the_last_page_is_empty(client, make_tickets, event_id, query):
    make_tickets(event_id, 2)

    response = client.get(f"{BASE}/event/{event_id}?{query}")

    assert response.status_code == 200
    assert json.loads(response.get_data(as_text=True)) == []


@pytest.mark.parametrize(
    ("query", "field"),
    [("status=sold", "status"), ("page=0", "page"), ("page_size=0", "page_size"), ("page=a", "page")],
)
def test_event_stream_refuses_bad_query(client, event_id, query, field):
    body = assert_error(client.get(f"{BASE}/event/{event_id}?{query}"), 422)

    assert field in body["errors"]["query"]


def test_summary_counts_each_status_and_expired_holds_as_available(client, make_tickets, event_id, tables):
    tickets = make_tickets(event_id, 7)
    for ticket_id, status in zip(tickets, STATUSES + ("Held",), strict=False):
        walk_to(client, ticket_id, status)
    tables.expire_hold(tickets[5])

    response = client.get(f"{BASE}/event/{event_id}/summary")

    assert response.status_code == 200
    assert response.get_json() == {
        "eventId": event_id, "total": 7, "available": 3, "held": 1, "reserved": 1, "sold": 1, "cancelled": 1,
    }


def test_summary_of_an_event_without_tickets_is_all_zero(client, event_id):
    response = client.get(f"{BASE}/event/{event_id}/summary")

    assert response.status_code == 200
    assert response.get_json() == {
        "eventId": event_id, "total": 0, "available": 0, "held": 0, "reserved": 0, "sold": 0, "cancelled": 0,
    }


def test_history_lists_changes_oldest_first(client, make_tickets, event_id):
    [ticket_id] = make_tickets(event_id)
    booking = str(uuid.uuid4())
    client.patch(
        f"{BASE}/{ticket_id}/status",
        json={"status": "Held", "bookingId": booking},
        headers={"X-Correlation-ID": "step-1"},
    )
    for step, status in enumerate(("Reserved", "Sold"), start=2):
        patch_status(client, ticket_id, status, headers={"X-Correlation-ID": f"step-{step}"})

    changes = history(client, ticket_id)

    assert all(set(change) >= HISTORY_KEYS for change in changes)
    assert [(c["fromStatus"], c["toStatus"], c["correlationId"]) for c in changes] == [
        ("Available", "Held", "step-1"),
        ("Held", "Reserved", "step-2"),
        ("Reserved", "Sold", "step-3"),
    ]
    assert [c["bookingId"] for c in changes] == [booking] * 3
    assert {c["source"] for c in changes} == {"api"}
    times = [datetime.fromisoformat(c["changedAt"]) for c in changes]
    assert times == sorted(times)


def test_history_of_a_new_ticket_is_empty(client, make_tickets, event_id):
    [ticket_id] = make_tickets(event_id)

    assert history(client, ticket_id) == []


def test_history_of_an_unknown_ticket_is_404(client):
    assert_error(client.get(f"{BASE}/{MISSING_ID}/history"), 404, MISSING_ID)
