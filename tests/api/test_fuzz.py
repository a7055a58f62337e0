"""Generated requests for every operation of the OpenAPI document: never a 5xx, always as documented.

Schemathesis reads the service's own `/openapi.json` from the app in-process and, for each
operation, sends boundary values and wrong types (its coverage phase), then random cases,
valid and invalid (its fuzzing phase). Each answer must have a documented status code, content
type, headers and body, and invalid input must be refused with a 4xx. The document's catch-all
`default` response is dropped first, so that every status such input gets must be named.

The run is deterministic (derandomized Hypothesis, no example database); half the cases that
name a valid ticket or event are pointed at tickets that exist, so that lookups also succeed.
"""

import collections
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.hypothesis.builder import HypothesisTestConfig, HypothesisTestMode, create_test

from tests.api.helpers import BASE

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
PHASES = [HypothesisTestMode.EXAMPLES, HypothesisTestMode.COVERAGE, HypothesisTestMode.FUZZING]
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
RANDOM_CASES_PER_OPERATION = 80
MIN_CASES = 1_000
MAX_EVENT_ID = 2**63 - 1
KNOWN_TICKETS = 20
# Creation is capped low here, so that generated quantities stay cheap to create.
MAX_CREATED = 50

SETTINGS = settings(
    max_examples=RANDOM_CASES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


@pytest.fixture
def fuzz_app(make_app):
    """The app as tested here: development endpoints on, no tokens, creation capped low."""
    return make_app(CREATE_MAX_TICKETS=MAX_CREATED, BULK_MAX_TICKETS=MAX_CREATED)


@pytest.fixture
def schema(fuzz_app):
    """The service's OpenAPI document without its `default` responses, bound to the app."""
    response = fuzz_app.test_client().get("/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    for path_item in document["paths"].values():
        for operation in path_item.values():
            if isinstance(operation, dict):
                operation.get("responses", {}).pop("default", None)
    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = fuzz_app
    loaded.config.generation.update(modes=MODES)
    return loaded


@pytest.fixture
def known(fuzz_app, event_id):
    """Tickets that exist when the run starts: their event and their ids."""
    response = fuzz_app.test_client().post(f"{BASE}/", json={"eventId": event_id, "quantity": KNOWN_TICKETS})
    assert response.status_code == 201, response.get_json()
    return {"event_id": event_id, "ticket_ids": [ticket["ticketId"] for ticket in response.get_json()]}


def _is_uuid(value):
    try:
        uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def _is_event_id(value):
    return type(value) is int and 1 <= value <= MAX_EVENT_ID


def _point_at_known(case, known, turn):
    """Replace the valid ticket and event ids a case names with ones that exist."""
    ticket_id = known["ticket_ids"][turn % len(known["ticket_ids"])]
    path = case.path_parameters or {}
    if _is_uuid(path.get("ticket_id")):
        path["ticket_id"] = ticket_id
    if _is_event_id(path.get("event_id")):
        path["event_id"] = known["event_id"]
    if isinstance(case.body, dict):
        if _is_event_id(case.body.get("eventId")):
            case.body["eventId"] = known["event_id"]
        ids = case.body.get("ticketIds")
        if isinstance(ids, list) and ids and all(map(_is_uuid, ids)) and ticket_id not in ids:
            ids[0] = ticket_id


def _fuzz(operation, known, counts):
    """Run the operation's generated cases; return its failures as text, or None."""

    def run_case(case):
        counts[operation.label] += 1
        if counts[operation.label] % 2:
            _point_at_known(case, known, counts[operation.label])
        case.call_and_validate(checks=CHECKS)

    config = HypothesisTestConfig(project=operation.schema.config, modes=PHASES, settings=SETTINGS)
    try:
        create_test(operation=operation, test_func=run_case, config=config)()
    except (AssertionError, FailureGroup) as error:
        return f"{operation.label}: {error}"
    return None


def test_generated_requests_get_documented_answers(schema, known):
    counts = collections.Counter()

    outcomes = [_fuzz(result.ok(), known, counts) for result in schema.get_all_operations()]

    failures = [outcome for outcome in outcomes if outcome]
    assert not failures, "\n\n".join(failures)
    assert len(counts) >= 15, counts
    assert sum(counts.values()) >= MIN_CASES, counts
