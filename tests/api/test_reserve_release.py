"""POST /api/Ticket/reserve and /release: all or nothing, owned holds, expired holds."""

import uuid

import pytest

from tests.api.helpers import BASE, MISSING_ID, assert_error, history, patch_status, walk_to


def reserve(client, event_id, ticket_ids, booking_id=None):
    body = {"eventId": event_id, "ticketIds": list(ticket_ids)}
    if booking_id:
        body["bookingId"] = str(booking_id)
    return client.post(f"{BASE}/reserve", json=body)


def release(client, event_id, ticket_ids, booking_id=None):
    body = {"eventId": event_id, "ticketIds": list(ticket_ids)}
    if booking_id:
        body["bookingId"] = str(booking_id)
    return client.post(f"{BASE}/release", json=body)


def answer(response):
    """Return the boolean answer of /reserve or /release, checking that it is JSON."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert response.get_data(as_text=True) in ("true", "false")
    return response.get_json()


def hold_for(client, ticket_id, booking_id):
    response = patch_status(client, ticket_id, "Held", bookingId=str(booking_id))
    assert response.status_code == 200, response.get_json()


def test_reserve_moves_every_ticket_once(client, tables, make_tickets, event_id):
    tickets = make_tickets(event_id, 3)
    booking = uuid.uuid4()

    assert answer(reserve(client, event_id, tickets, booking)) is True

    for ticket_id in tickets:
        row = tables.ticket(ticket_id)
        assert (row.status, row.version, row.booking_id) == ("Reserved", 1, booking)
        changes = history(client, ticket_id)
        assert [(c["fromStatus"], c["toStatus"], c["bookingId"]) for c in changes] == [
            ("Available", "Reserved", str(booking))
        ]


def test_reserve_without_booking_reserves_available_tickets(client, tables, make_tickets, event_id):
    tickets = make_tickets(event_id, 2)

    assert answer(reserve(client, event_id, tickets)) is True
    assert {tables.ticket(ticket_id).status for ticket_id in tickets} == {"Reserved"}


def spoil_with_taken_ticket(client, make_tickets, event_id, status):
    [ticket_id] = make_tickets(event_id)
    walk_to(client, ticket_id, status, booking_id=str(uuid.uuid4()))
    return ticket_id


SPOILERS = {
    "held by another booking": lambda client, make, event: spoil_with_taken_ticket(client, make, event, "Held"),
    "reserved": lambda client, make, event: spoil_with_taken_ticket(client, make, event, "Reserved"),
    "sold": lambda client, make, event: spoil_with_taken_ticket(client, make, event, "Sold"),
    "cancelled": lambda client, make, event: spoil_with_taken_ticket(client, make, event, "Cancelled"),
    "of another event": lambda client, make, event: make(event + 1)[0],
    "unknown": lambda client, make, event: MISSING_ID,
}


@pytest.mark.parametrize("spoiler", SPOILERS)
def test_reserve_with_one_bad_ticket_changes_nothing(client, tables, make_tickets, event_id, spoiler):
    tickets = make_tickets(event_id, 3)
    tickets.insert(1, SPOILERS[spoiler](client, make_tickets, event_id))
    before = tables.state()

    assert answer(reserve(client, event_id, tickets, uuid.uuid4())) is False

    assert tables.state() == before


def test_reserve_refuses_a_hold_of_another_booking_and_accepts_the_owner(client, tables, make_tickets, event_id):
    [ticket_id] = make_tickets(event_id)
    owner, other = uuid.uuid4(), uuid.uuid4()
    hold_for(client, ticket_id, owner)
    before = tables.state()

    assert answer(reserve(client, event_id, [ticket_id], other)) is False
    assert answer(reserve(client, event_id, [ticket_id])) is False
    assert tables.state() == before

    assert answer(reserve(client, event_id, [ticket_id], owner)) is True
    row = tables.ticket(ticket_id)
    assert (row.status, row.booking_id, row.held_until, row.version) == ("Reserved", owner, None, 2)
    assert [c["toStatus"] for c in history(client, ticket_id)] == ["Held", "Reserved"]


@pytest.mark.parametrize("with_booking", [True, False])
def test_an_expired_hold_can_be_reserved_by_anyone(client, tables, make_tickets, event_id, with_booking):
    [ticket_id] = make_tickets(event_id)
    hold_for(client, ticket_id, uuid.uuid4())
    tables.expire_hold(ticket_id)
    newcomer = uuid.uuid4() if with_booking else None

    assert answer(reserve(client, event_id, [ticket_id], newcomer)) is True

    row = tables.ticket(ticket_id)
    assert (row.status, row.booking_id, row.version) == ("Reserved", newcomer, 2)


def test_release_returns_held_and_reserved_tickets_to_available(client, tables, make_tickets, event_id):
    held, reserved = make_tickets(event_id, 2)
    booking = uuid.uuid4()
    hold_for(client, held, booking)
    assert answer(reserve(client, event_id, [reserved], booking)) is True

    assert answer(release(client, event_id, [held, reserved])) is True

    for ticket_id, previous in ((held, "Held"), (reserved, "Reserved")):
        row = tables.ticket(ticket_id)
        assert (row.status, row.booking_id, row.held_until, row.version) == ("Available", None, None, 2)
        assert [(c["fromStatus"], c["toStatus"]) for c in history(client, ticket_id)][-1] == (previous, "Available")


def test_release_with_booking_releases_only_that_bookings_tickets(client, tables, make_tickets, event_id):
    mine, theirs = make_tickets(event_id, 2)
    me, them = uuid.uuid4(), uuid.uuid4()
    hold_for(client, mine, me)
    assert answer(reserve(client, event_id, [theirs], them)) is True
    before = tables.state()

    assert answer(release(client, event_id, [theirs], me)) is False
    assert answer(release(client, event_id, [mine, theirs], me)) is False
    assert tables.state() == before

    assert answer(release(client, event_id, [mine], me)) is True
    assert tables.ticket(mine).status == "Available"
    assert (tables.ticket(theirs).status, tables.ticket(theirs).booking_id) == ("Reserved", them)


RELEASE_SPOILERS = {
    "available": lambda client, make, event: make(event)[0],
    "sold": lambda client, make, event: spoil_with_taken_ticket(client, make, event, "Sold"),
    "cancelled": lambda client, make, event: spoil_with_taken_ticket(client, make, event, "Cancelled"),
    "of another event": lambda client, make, event: spoil_with_taken_ticket(client, make, event + 1, "Held"),
    "unknown": lambda client, make, event: MISSING_ID,
}


@pytest.mark.parametrize("spoiler", RELEASE_SPOILERS)
def test_release_with_one_bad_ticket_changes_nothing(client, tables, make_tickets, event_id, spoiler):
    tickets = make_tickets(event_id, 2)
    for ticket_id in tickets:
        walk_to(client, ticket_id, "Reserved")
    tickets.insert(1, RELEASE_SPOILERS[spoiler](client, make_tickets, event_id))
    before = tables.state()

    assert answer(release(client, event_id, tickets)) is False

    assert tables.state() == before


def many_ids(count):
    return [str(uuid.uuid4()) for _ in range(count)]


BAD_BATCHES = {
    "no ids": lambda event, ticket: {"eventId": event, "ticketIds": []},
    "1001 ids": lambda event, ticket: {"eventId": event, "ticketIds": [ticket, *many_ids(1000)]},
    "duplicate ids": lambda event, ticket: {"eventId": event, "ticketIds": [ticket, ticket]},
    "ids missing": lambda event, ticket: {"eventId": event},
    "ids not a list": lambda event, ticket: {"eventId": event, "ticketIds": ticket},
    "malformed id": lambda event, ticket: {"eventId": event, "ticketIds": [ticket, "not-a-uuid"]},
    "event missing": lambda event, ticket: {"ticketIds": [ticket]},
    "event zero": lambda event, ticket: {"eventId": 0, "ticketIds": [ticket]},
    "event as string": lambda event, ticket: {"eventId": str(event), "ticketIds": [ticket]},
    "malformed booking": lambda event, ticket: {"eventId": event, "ticketIds": [ticket], "bookingId": "b-1"},
    "unknown field": lambda event, ticket: {"eventId": event, "ticketIds": [ticket], "reason": "x"},
}


@pytest.mark.parametrize("path", ["/reserve", "/release"])
@pytest.mark.parametrize("batch", BAD_BATCHES)
def test_bad_batch_is_422(client, tables, make_tickets, event_id, path, batch):
    [ticket_id] = make_tickets(event_id)
    walk_to(client, ticket_id, "Held")
    before = tables.state()

    response = client.post(f"{BASE}{path}", json=BAD_BATCHES[batch](event_id, ticket_id))

    body = assert_error(response, 422)
    assert "json" in body["errors"]
    assert tables.state() == before


def test_exactly_a_thousand_ids_are_accepted(client, tables, make_tickets, event_id):
    tickets = make_tickets(event_id, 1000)

    assert answer(reserve(client, event_id, tickets)) is True
    assert tables.count("tickets", event_id=event_id, status="Reserved") == 1000


@pytest.mark.parametrize("path", ["/reserve", "/release"])
def test_development_endpoints_can_be_switched_off(make_app, make_tickets, tables, event_id, path):
    [ticket_id] = make_tickets(event_id)
    client = make_app(DEV_ENDPOINTS_ENABLED=False).test_client()
    before = tables.state()

    response = client.post(f"{BASE}{path}", json={"eventId": event_id, "ticketIds": [ticket_id]})

    assert_error(response, 404)
    assert tables.state() == before
