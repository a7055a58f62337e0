"""PATCH /api/Ticket/{id}/status over the whole lifecycle table, and If-Match."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.api.helpers import (
    ALLOWED,
    BASE,
    MISSING_ID,
    STATUS_CHANGE_KEYS,
    STATUSES,
    assert_error,
    history,
    patch_status,
)

PAIRS = [(current, target) for current in STATUSES for target in STATUSES]
ALLOWED_PAIRS = [(current, target) for current, target in PAIRS if target in ALLOWED[current]]
SAME_PAIRS = [(current, target) for current, target in PAIRS if current == target]
FORBIDDEN_PAIRS = [
    (current, target) for current, target in PAIRS if current != target and target not in ALLOWED[current]
]


def test_the_table_has_every_pair_once():
    assert sorted(ALLOWED_PAIRS + SAME_PAIRS + FORBIDDEN_PAIRS) == sorted(PAIRS)
    assert (len(ALLOWED_PAIRS), len(SAME_PAIRS), len(FORBIDDEN_PAIRS)) == (9, 5, 11)


@pytest.mark.parametrize(("current", "target"), ALLOWED_PAIRS)
def test_allowed_transition_bumps_version_and_leaves_one_audit_row(client, tables, ticket_at, current, target):
    ticket_id = ticket_at(current)
    before = tables.ticket(ticket_id)
    changes_before = history(client, ticket_id)

    response = patch_status(client, ticket_id, target)

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) >= STATUS_CHANGE_KEYS
    assert (body["ticketId"], body["status"], body["previousStatus"]) == (ticket_id, target, current)
    after = tables.ticket(ticket_id)
    assert (after.status, after.version) == (target, before.version + 1)
    assert datetime.fromisoformat(body["updatedAt"]) == after.updated_at
    changes = history(client, ticket_id)
    assert changes[:-1] == changes_before
    assert (changes[-1]["fromStatus"], changes[-1]["toStatus"]) == (current, target)


@pytest.mark.parametrize(("current", "target"), SAME_PAIRS)
def test_same_status_is_a_no_op(client, tables, ticket_at, current, target):
    ticket_id = ticket_at(current)
    before = tables.ticket(ticket_id)
    changes_before = history(client, ticket_id)

    response = patch_status(client, ticket_id, target)

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["ticketId"], body["status"], body["previousStatus"]) == (ticket_id, current, current)
    assert datetime.fromisoformat(body["updatedAt"]) == before.updated_at
    assert tables.ticket(ticket_id) == before
    assert history(client, ticket_id) == changes_before


@pytest.mark.parametrize(("current", "target"), FORBIDDEN_PAIRS)
def test_forbidden_transition_is_409_naming_both_states(client, tables, ticket_at, current, target):
    ticket_id = ticket_at(current)
    before = tables.state()

    response = patch_status(client, ticket_id, target)

    assert_error(response, 409, current, target)
    assert tables.state() == before


@pytest.mark.parametrize("status", ["Unknown", "held", "AVAILABLE", "", " Sold"])
def test_unknown_status_is_422_listing_the_allowed_ones(client, tables, ticket_at, status):
    ticket_id = ticket_at("Available")
    before = tables.state()

    body = assert_error(patch_status(client, ticket_id, status), 422)

    [message] = body["errors"]["json"]["status"]
    assert all(allowed in message for allowed in STATUSES)
    assert tables.state() == before


@pytest.mark.parametrize("body", [{}, {"status": None}, {"status": 1}, {"status": ["Held"]}, {"state": "Held"}])
def test_status_body_must_name_a_status(client, tables, ticket_at, body):
    ticket_id = ticket_at("Available")
    before = tables.state()

    assert_error(client.patch(f"{BASE}/{ticket_id}/status", json=body), 422)
    assert tables.state() == before


def test_patch_unknown_ticket_is_404(client):
    assert_error(patch_status(client, MISSING_ID, "Sold"), 404, MISSING_ID)


def test_hold_through_patch_sets_owner_and_default_deadline(client, app, ticket_at):
    ticket_id = ticket_at("Available")
    booking = str(uuid.uuid4())
    started = datetime.now(UTC)

    assert patch_status(client, ticket_id, "Held", bookingId=booking).status_code == 200
    held = client.get(f"{BASE}/{ticket_id}").get_json()
    assert patch_status(client, ticket_id, "Available").status_code == 200
    released = client.get(f"{BASE}/{ticket_id}").get_json()

    assert held["bookingId"] == booking
    deadline = datetime.fromisoformat(held["heldUntil"]) - started
    expected = timedelta(seconds=app.config["HOLD_DEFAULT_SECONDS"])
    assert expected - timedelta(seconds=30) < deadline < expected + timedelta(seconds=30)
    assert (released["bookingId"], released["heldUntil"]) == (None, None)


@pytest.mark.parametrize("if_match", ['"0"', 'W/"0"', "0", "*"])
def test_patch_with_matching_if_match_proceeds(client, tables, ticket_at, if_match):
    ticket_id = ticket_at("Available")

    response = patch_status(client, ticket_id, "Reserved", headers={"If-Match": if_match})

    assert response.status_code == 200, response.get_json()
    assert tables.ticket(ticket_id).version == 1


@pytest.mark.parametrize("if_match", ['"1"', '"7"', 'W/"1"', '"abc"', '""'])
def test_patch_with_another_version_in_if_match_is_412(client, tables, ticket_at, if_match):
    ticket_id = ticket_at("Available")
    before = tables.state()

    response = patch_status(client, ticket_id, "Reserved", headers={"If-Match": if_match})

    assert_error(response, 412)
    assert tables.state() == before


def test_etag_of_a_read_guards_the_next_change(client, ticket_at):
    ticket_id = ticket_at("Available")
    etag = client.get(f"{BASE}/{ticket_id}").headers["ETag"]

    first = patch_status(client, ticket_id, "Reserved", headers={"If-Match": etag})
    second = patch_status(client, ticket_id, "Sold", headers={"If-Match": etag})

    assert first.status_code == 200
    assert_error(second, 412)
