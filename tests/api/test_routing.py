"""Case-insensitive `/api/Ticket` routing, and the original README's curl examples."""

import json

import pytest

from tests.api.helpers import BASE, walk_to

PREFIXES = ["/api/ticket", "/API/TICKET", "/api/tIcKeT"]


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/", None),
        ("GET", "/{ticket}", None),
        ("GET", "/{ticket}/history", None),
        ("GET", "/event/{event}", None),
        ("GET", "/event/{event}/summary", None),
        ("PATCH", "/{ticket}/status", lambda event, ticket: {"status": "Available"}),
        ("POST", "/release", lambda event, ticket: {"eventId": event, "ticketIds": [ticket]}),
    ],
)
def test_any_case_routes_like_the_canonical_path(client, make_tickets, event_id, prefix, method, path, body):
    [ticket_id] = make_tickets(event_id)

    def send(base):
        payload = body and body(event_id, ticket_id)
        return client.open(base + path.format(ticket=ticket_id, event=event_id), method=method, json=payload)

    canonical, other = send(BASE), send(prefix)

    assert canonical.status_code == other.status_code == 200
    assert other.get_json() == canonical.get_json()


@pytest.mark.parametrize("prefix", PREFIXES)
def test_reserve_routes_in_any_case(client, tables, make_tickets, event_id, prefix):
    [ticket_id] = make_tickets(event_id)

    response = client.post(f"{prefix}/reserve", json={"eventId": event_id, "ticketIds": [ticket_id]})

    assert response.status_code == 200
    assert response.get_json() is True
    assert tables.ticket(ticket_id).status == "Reserved"


@pytest.mark.parametrize("path", ["/api/ticket", "/api/Ticket", "/api/ticket/", "/API/Ticket"])
def test_bare_prefix_reaches_the_collection_without_redirect(client, make_tickets, event_id, path):
    make_tickets(event_id, 2)

    response = client.get(path)

    assert response.status_code == 200
    assert len(response.get_json()) == 2


@pytest.mark.parametrize("path", ["/api/ticket", "/api/Ticket", "/api/ticket/bulk", "/Api/Ticket/bulk"])
def test_creation_routes_in_any_case(client, tables, event_id, path):
    response = client.post(path, json={"eventId": event_id, "quantity": 2})

    assert response.status_code == 201, response.get_json()
    assert tables.count("tickets", event_id=event_id) == 2


def test_delete_routes_in_lowercase(client, tables, make_tickets, event_id):
    [ticket_id] = make_tickets(event_id)

    assert client.delete(f"/api/ticket/{ticket_id}").status_code == 204
    assert tables.ticket(ticket_id) is None


@pytest.mark.parametrize("path", ["/api/tickets", "/api/ticketing/", "/api/ticket-x/bulk"])
def test_only_the_exact_prefix_is_rewritten(client, path):
    assert client.get(path).status_code == 404


README_BULK = """{
    "eventId": 1,
    "quantity": 1000
  }"""
README_RESERVE = """{
    "eventId": 1,
    "ticketIds": [
      "%s",
      "%s"
    ]
  }"""
README_PATCH = """{
    "status": "Sold"
  }"""


def test_original_readme_curl_examples(client, tables):
    headers = {"Content-Type": "application/json"}

    bulk = client.post("/api/ticket/bulk", data=README_BULK, headers=headers)
    assert bulk.status_code == 201
    assert bulk.get_json() == {
        "eventId": 1, "ticketsCreated": 1000, "message": "Successfully created 1000 tickets for event 1",
    }

    listed = client.get("/api/ticket/event/1")
    assert listed.status_code == 200
    tickets = json.loads(listed.get_data(as_text=True))
    assert len(tickets) == 1000
    first, second = tickets[0]["ticketId"], tickets[1]["ticketId"]

    reserved = client.post("/api/ticket/reserve", data=README_RESERVE % (first, second), headers=headers)
    assert reserved.status_code == 200
    assert reserved.get_json() is True

    sold = client.patch(f"/api/ticket/{first}/status", data=README_PATCH, headers=headers)
    assert sold.status_code == 200
    body = sold.get_json()
    assert (body["ticketId"], body["status"], body["previousStatus"]) == (first, "Sold", "Reserved")
    assert tables.count("tickets", event_id=1, status="Reserved") == 1
    assert tables.count("tickets", event_id=1, status="Sold") == 1


def test_readme_reserve_example_ids_answer_false_when_they_do_not_exist(client, make_tickets):
    make_tickets(1, 2)
    body = README_RESERVE % ("3fa85f64-5717-4562-b3fc-2c963f66afa6", "3fa85f64-5717-4562-b3fc-2c963f66afa7")

    response = client.post("/api/ticket/reserve", data=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 200
    assert response.get_json() is False


def test_readme_patch_example_on_a_reserved_ticket(client, make_tickets):
    [ticket_id] = make_tickets(1)
    walk_to(client, ticket_id, "Reserved")

    response = client.patch(
        f"/api/ticket/{ticket_id}/status", data=README_PATCH, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 200
    assert response.get_json()["status"] == "Sold"
