"""Many buyers PATCH one ticket at once, through two gunicorn workers: the audit trail stays true."""

import threading
from collections import Counter

import requests

from tests.api.helpers import ALLOWED, BASE, STATUSES, assert_http_error

THREADS = 16
ROUNDS = 3


def patch_together(base_url, ticket_id, targets):
    """PATCH the ticket to each target from its own thread, all released at once; return the answers."""
    barrier = threading.Barrier(len(targets))
    answers = [None] * len(targets)

    def run(index):
        barrier.wait()
        answers[index] = requests.patch(
            f"{base_url}{BASE}/{ticket_id}/status", json={"status": targets[index]}, timeout=30
        )

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(targets))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def assert_valid_lifecycle_path(changes):
    status = "Available"
    for change in changes:
        assert change["fromStatus"] == status, changes
        assert change["toStatus"] in ALLOWED[status], changes
        status = change["toStatus"]
    return status


def test_concurrent_status_changes_leave_one_audit_row_per_change(live_server, make_tickets, event_id):
    targets = [STATUSES[index % len(STATUSES)] for index in range(THREADS)]
    for round_number in range(ROUNDS):
        [ticket_id] = make_tickets(event_id)
        rotated = targets[round_number:] + targets[:round_number]

        answers = patch_together(live_server, ticket_id, rotated)

        assert {answer.status_code for answer in answers} <= {200, 409, 503}, [a.text for a in answers]
        for answer in answers:
            if answer.status_code != 200:
                assert_http_error(answer, answer.status_code)
            if answer.status_code == 503:  # busy: the spec allows 409 or 503, with Retry-After
                assert answer.headers["Retry-After"]
        changed = [
            (body["previousStatus"], body["status"])
            for body in (answer.json() for answer in answers if answer.status_code == 200)
            if body["previousStatus"] != body["status"]
        ]
        changes = requests.get(f"{live_server}{BASE}/{ticket_id}/history", timeout=10).json()
        ticket = requests.get(f"{live_server}{BASE}/{ticket_id}", timeout=10).json()
        final = assert_valid_lifecycle_path(changes)
        assert ticket["status"] == final
        assert ticket["version"] == len(changes)
        assert len(changed) == len(changes)
        assert Counter(changed) == Counter((c["fromStatus"], c["toStatus"]) for c in changes)
        assert changes, "a Held, Reserved or Cancelled target always moves an Available ticket"
        print(f"round {round_number}: {len(changes)} changes, {Counter(a.status_code for a in answers)}")
