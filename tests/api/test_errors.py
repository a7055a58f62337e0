"""Bad input of every kind: a 4xx JSON error that says what is wrong, and nothing changed."""

import json
import uuid

import pytest

from tests.api.helpers import BASE, MISSING_ID, assert_error

MAX_EVENT_ID = 2**63 - 1
BOOKING = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
ENDPOINTS = {
    "create": ("POST", "/", lambda event, ticket: {"eventId": event, "quantity": 2}),
    "bulk": ("POST", "/bulk", lambda event, ticket: {"eventId": event, "quantity": 2}),
    "reserve": ("POST", "/reserve", lambda event, ticket: {"eventId": event, "ticketIds": [ticket]}),
    "release": ("POST", "/release", lambda event, ticket: {"eventId": event, "ticketIds": [ticket]}),
    "hold": ("POST", "/hold", lambda event, ticket: {"eventId": event, "bookingId": BOOKING, "ticketIds": [ticket]}),
    "patch": ("PATCH", "/{ticket}/status", lambda event, ticket: {"status": "Cancelled"}),
}
WITH_EVENT = ["create", "bulk", "reserve", "release", "hold"]
WITH_QUANTITY = ["create", "bulk"]
WITH_TICKET_IDS = ["reserve", "release", "hold"]


@pytest.fixture
def existing(make_tickets, event_id):
    """One Available ticket, so that 'nothing changed' has something to look at."""
    return make_tickets(event_id)[0]


@pytest.fixture
def send(client, tables, existing, event_id):
    """Send a request to an endpoint and check afterwards that the database did not change."""
    before = tables.state()

    def request(endpoint, body=None, mutate=None, **options):
        method, path, valid = ENDPOINTS[endpoint]
        if body is None and "data" not in options:
            body = valid(event_id, existing)
            if mutate:
                mutate(body)
        path = BASE + path.format(ticket=existing)
        return client.open(path, method=method, json=body, **options)

    yield request
    assert tables.state() == before


@pytest.mark.parametrize("endpoint", WITH_EVENT)
@pytest.mark.parametrize(
    "value", [0, -1, -(2**63), MAX_EVENT_ID + 1, 10**30, "1", "", 1.5, True, None, [1], {"id": 1}]
)
def test_event_id_in_body_must_be_a_positive_64_bit_integer(send, endpoint, value):
    response = send(endpoint, mutate=lambda body: body.update(eventId=value))

    body = assert_error(response, 422)
    assert "eventId" in body["errors"]["json"]


@pytest.mark.parametrize("endpoint", WITH_QUANTITY)
@pytest.mark.parametrize("value", ["2", 2.5, True, None, [], 0, -5])
def test_quantity_must_be_a_positive_integer(send, endpoint, value):
    response = send(endpoint, mutate=lambda body: body.update(quantity=value))

    body = assert_error(response, 422)
    assert "quantity" in body["errors"]["json"]


@pytest.mark.parametrize("endpoint", WITH_QUANTITY)
@pytest.mark.parametrize("value", [2**63 - 1, 2**63, 10**30])
def test_huge_quantity_is_refused(send, endpoint, value):
    response = send(endpoint, mutate=lambda body: body.update(quantity=value))

    body = assert_error(response, 422, "quantity")
    assert "quantity" in body["errors"]["json"]


def _ids(count):
    return [str(uuid.uuid4()) for _ in range(count)]


BAD_TICKET_IDS = {
    "1,001 ids": lambda ticket: [ticket, *_ids(1000)],
    "duplicate ids": lambda ticket: [ticket, ticket],
    # The list's own error and an item's error together: marshmallow keys them by "_schema" and by index.
    "duplicates and a malformed id": lambda ticket: [ticket, ticket, "nope"],
    "1,001 ids, one malformed": lambda ticket: [ticket, "nope", *_ids(999)],
    "an id that is a number": lambda ticket: [ticket, 0],
}


@pytest.mark.parametrize("endpoint", WITH_TICKET_IDS)
@pytest.mark.parametrize("case", BAD_TICKET_IDS)
def test_bad_ticket_id_lists_are_refused(send, existing, endpoint, case):
    response = send(endpoint, mutate=lambda body: body.update(ticketIds=BAD_TICKET_IDS[case](existing)))

    body = assert_error(response, 422)
    errors = body["errors"]["json"]["ticketIds"]
    assert errors
    assert all(isinstance(key, str) for key in (errors if isinstance(errors, dict) else {}))


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_unknown_fields_are_refused_by_name(send, endpoint):
    response = send(endpoint, mutate=lambda body: body.update(priority="high"))

    body = assert_error(response, 422)
    assert body["errors"]["json"]["priority"] == ["Unknown field."]


@pytest.mark.parametrize("endpoint", ["create", "bulk"])
def test_largest_event_id_is_accepted(client, tables, endpoint):
    method, path, valid = ENDPOINTS[endpoint]

    response = client.open(BASE + path, method=method, json=valid(MAX_EVENT_ID, None))

    assert response.status_code == 201, response.get_json()
    assert tables.count("tickets", event_id=MAX_EVENT_ID) == 2


RAW_BODIES = {
    "invalid JSON": ({"data": '{"eventId": 1,', "content_type": "application/json"}, 400, "JSON"),
    "invalid UTF-8": ({"data": b'{"eventId": "\xff"}', "content_type": "application/json"}, 400, "JSON"),
    "nested too deep": ({"data": "[" * 50_000 + "]" * 50_000, "content_type": "application/json"}, 400, "nested"),
    "number too long": (
        {"data": '{"eventId": 1' + "0" * 5000 + ', "quantity": 1}', "content_type": "application/json"},
        400,
        "digits",
    ),
    "JSON as text/plain": ({"data": '{"eventId": 1, "quantity": 1}', "content_type": "text/plain"}, 415, "JSON"),
    "form-encoded": ({"data": {"eventId": "1", "quantity": "1"}}, 415, "JSON"),
    "empty JSON body": ({"data": "", "content_type": "application/json"}, 422, ""),
    "no body": ({"data": None}, 422, ""),
    "JSON array": ({"data": "[1, 2]", "content_type": "application/json"}, 422, ""),
    "JSON string": ({"data": '"eventId"', "content_type": "application/json"}, 422, ""),
    "JSON null": ({"data": "null", "content_type": "application/json"}, 422, ""),
    "JSON number": ({"data": "7", "content_type": "application/json"}, 422, ""),
    "over MAX_CONTENT_LENGTH": (
        {"data": json.dumps({"eventId": 1, "quantity": 1, "pad": "x" * 1_100_000}), "content_type": "application/json"},
        413,
        "",
    ),
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("case", RAW_BODIES)
def test_unusable_body_is_a_json_error(send, endpoint, case):
    options, code, fragment = RAW_BODIES[case]

    response = send(endpoint, **options)

    assert_error(response, code, fragment)


MALFORMED_UUIDS = ["nope", "1234", "3fa85f64-5717-4562-b3fc-2c963f66afa", "3fa85f64-5717-4562-b3fc-2c963f66afa6x"]
TICKET_PATHS = [("GET", "/{}"), ("GET", "/{}/history"), ("PATCH", "/{}/status"), ("DELETE", "/{}")]


@pytest.mark.parametrize(("method", "path"), TICKET_PATHS)
@pytest.mark.parametrize("ticket_id", MALFORMED_UUIDS)
def test_malformed_ticket_id_in_path_is_422(client, tables, existing, method, path, ticket_id):
    before = tables.state()

    response = client.open(BASE + path.format(ticket_id), method=method, json={"status": "Cancelled"})

    body = assert_error(response, 422, ticket_id, "UUID")
    assert "ticketId" in body["errors"]["path"]
    assert tables.state() == before


BAD_EVENT_IDS = [
    "0", "-1", "00", str(MAX_EVENT_ID + 1), "9" * 30, "abc", "1.5", "1e3", "0x10",
    "%C2%B2",  # superscript two
    "%D9%A1",  # Arabic-Indic digit one
    "%201",  # leading space
]


@pytest.mark.parametrize("path", ["/event/{}", "/event/{}/summary"])
@pytest.mark.parametrize("event", BAD_EVENT_IDS)
def test_bad_event_id_in_path_is_422(client, path, event):
    body = assert_error(client.get(BASE + path.format(event)), 422, "event id")

    assert "eventId" in body["errors"]["path"]


@pytest.mark.parametrize("path", ["/event/{}", "/event/{}/summary"])
def test_largest_event_id_in_path_is_accepted(client, path):
    assert client.get(BASE + path.format(MAX_EVENT_ID)).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "code"),
    [
        ("GET", "/nowhere", 404),
        ("GET", f"{BASE}/event/1/tickets", 404),
        ("GET", f"{BASE}/{MISSING_ID}/nothing", 404),
        ("PUT", f"{BASE}/", 405),
        ("DELETE", f"{BASE}/", 405),
        ("POST", f"{BASE}/{MISSING_ID}", 405),
        ("PUT", f"{BASE}/{MISSING_ID}/status", 405),
        ("POST", f"{BASE}/event/1", 405),
    ],
)
def test_unknown_routes_and_methods_answer_json(client, method, path, code):
    response = client.open(path, method=method)

    assert_error(response, code)
    if code == 405:
        assert method not in response.headers["Allow"]
        assert response.headers["Allow"]


@pytest.mark.parametrize("endpoint", WITH_QUANTITY)
@pytest.mark.parametrize("key", ["a\x00b", "tab\there", "caf\xe9", "\x7f"])
def test_idempotency_key_that_is_not_printable_ascii_is_refused(send, endpoint, key):
    response = send(endpoint, headers={"Idempotency-Key": key})

    body = assert_error(response, 422, "Idempotency-Key", "ASCII")
    assert "Idempotency-Key" in body["errors"]["headers"]


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
@pytest.mark.parametrize("if_match", ['"\xb2"', "\xb2", 'W/"\u0661"', '"0\x00"'])
def test_if_match_that_is_not_a_version_is_412(client, tables, existing, method, if_match):
    before = tables.state()
    path = f"{BASE}/{existing}/status" if method == "PATCH" else f"{BASE}/{existing}"

    response = client.open(path, method=method, json={"status": "Cancelled"}, headers={"If-Match": if_match})

    assert_error(response, 412)
    assert tables.state() == before


@pytest.mark.parametrize("correlation_id", ["a\x00b", "bell\x07", "caf\xe9"])
def test_correlation_id_that_is_not_printable_ascii_is_replaced(client, tables, existing, correlation_id):
    response = client.patch(f"{BASE}/{existing}/status", json={"status": "Cancelled"},
                            headers={"X-Correlation-ID": correlation_id})

    assert response.status_code == 200, response.get_json()
    replaced = response.headers["X-Correlation-ID"]
    assert uuid.UUID(replaced)
    assert tables.count("ticket_status_changes", correlation_id=replaced) == 1
