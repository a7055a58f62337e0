"""PostgreSQL restarted under the running API: 503 JSON during the outage, recovery without a restart."""

import time

import pytest
import requests

from tests.faults.services import postgres_stopped
from tests.servers import running_gunicorn

pytestmark = pytest.mark.faults


def test_requests_during_a_database_outage_get_503_json_and_the_api_recovers(app, database_url, event_id):
    with running_gunicorn(database_url, workers=2) as (base_url, _):
        created = requests.post(f"{base_url}/api/Ticket/", json={"eventId": event_id, "quantity": 1}, timeout=10)
        ticket_id = created.json()["ticketId"]
        with postgres_stopped():
            for method, path, body in [
                ("get", "/api/Ticket/?eventId=1", None),
                ("post", "/api/Ticket/", {"eventId": event_id, "quantity": 1}),
                ("patch", f"/api/Ticket/{ticket_id}/status", {"status": "Reserved"}),
                ("get", "/health", None),
                ("get", "/health/ready", None),
            ]:
                started = time.monotonic()
                response = getattr(requests, method)(f"{base_url}{path}", json=body, timeout=20)
                assert time.monotonic() - started < 10, f"{method} {path} hung"
                assert response.status_code == 503, (path, response.text)
                assert response.headers["Content-Type"].startswith("application/json")
                if path.startswith("/health"):
                    assert response.json()["checks"]["postgres"]["status"] == "down"
                else:
                    assert response.json()["code"] == 503 and response.headers["Retry-After"]
            assert requests.get(f"{base_url}/health/live", timeout=5).status_code == 200
        deadline = time.monotonic() + 30
        while requests.get(f"{base_url}/health/ready", timeout=10).status_code != 200:
            assert time.monotonic() < deadline, "the API did not recover"
            time.sleep(0.5)
        patched = requests.patch(f"{base_url}/api/Ticket/{ticket_id}/status", json={"status": "Reserved"}, timeout=10)
        assert patched.status_code == 200
        assert requests.get(f"{base_url}/api/Ticket/{ticket_id}", timeout=10).json()["status"] == "Reserved"
