"""DELETE /api/Ticket/{id}: only Available or Cancelled tickets go, If-Match honoured."""

import pytest

from tests.api.helpers import BASE, MISSING_ID, assert_error


@pytest.mark.parametrize("status", ["Available", "Cancelled"])
def test_delete_removes_an_available_or_cancelled_ticket(client, tables, ticket_at, status):
    ticket_id = ticket_at(status)

    response = client.delete(f"{BASE}/{ticket_id}")

    assert response.status_code == 204
    assert response.get_data() == b""
    assert tables.ticket(ticket_id) is None
    assert_error(client.get(f"{BASE}/{ticket_id}"), 404)


@pytest.mark.parametrize("status", ["Held", "Reserved", "Sold"])
def test_delete_keeps_a_customers_seat(client, tables, ticket_at, status):
    ticket_id = ticket_at(status)
    before = tables.state()

    response = client.delete(f"{BASE}/{ticket_id}")

    assert_error(response, 409, status)
    assert tables.state() == before


def test_delete_unknown_ticket_is_404(client):
    assert_error(client.delete(f"{BASE}/{MISSING_ID}"), 404, MISSING_ID)


def test_delete_twice_is_404_the_second_time(client, ticket_at):
    ticket_id = ticket_at("Available")

    assert client.delete(f"{BASE}/{ticket_id}").status_code == 204
    assert_error(client.delete(f"{BASE}/{ticket_id}"), 404)


@pytest.mark.parametrize("if_match", ['"0"', '"2"', 'W/"5"', '"x"'])
def test_delete_with_another_version_in_if_match_is_412(client, tables, ticket_at, if_match):
    ticket_id = ticket_at("Cancelled")  # version 1
    before = tables.state()

    response = client.delete(f"{BASE}/{ticket_id}", headers={"If-Match": if_match})

    assert_error(response, 412)
    assert tables.state() == before


@pytest.mark.parametrize("if_match", ['"1"', 'W/"1"', "*"])
def test_delete_with_matching_if_match_proceeds(client, tables, ticket_at, if_match):
    ticket_id = ticket_at("Cancelled")

    assert client.delete(f"{BASE}/{ticket_id}", headers={"If-Match": if_match}).status_code == 204
    assert tables.ticket(ticket_id) is None
