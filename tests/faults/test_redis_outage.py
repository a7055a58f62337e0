"""Redis stopped in the middle of a load of holds: sales go on, nothing oversold, health says so."""

import threading
import uuid

import pytest
import requests
from sqlalchemy import text

from app.extensions import db
from tests.faults.services import redis_stopped
from tests.servers import running_gunicorn

pytestmark = pytest.mark.faults
TICKETS = 120
BUYERS = 16


def buy_until(base_url, event_id, stop, outcomes):
    while not stop.is_set():
        booking = str(uuid.uuid4())
        body = {"eventId": event_id, "bookingId": booking, "numberOfTickets": 2}
        response = requests.post(f"{base_url}/api/Ticket/hold", json=body, timeout=30)
        outcomes.append((booking, response.status_code, response.json()))
        if response.status_code == 409 and "Not enough" in response.json()["message"]:
            return


def test_holds_go_on_without_redis_and_nothing_is_oversold(app, database_url, event_id):
    # No cached /health report: each answer shows Redis as it is at that moment.
    with running_gunicorn(database_url, workers=2, env={"HEALTH_CACHE_SECONDS": "0"}) as (base_url, _):
        requests.post(f"{base_url}/api/Ticket/bulk", json={"eventId": event_id, "quantity": TICKETS}, timeout=30)
        stop, outcomes = threading.Event(), []
        buyers = [threading.Thread(target=buy_until, args=(base_url, event_id, stop, outcomes))
                  for _ in range(BUYERS)]
        for buyer in buyers:
            buyer.start()
        with redis_stopped():
            health = requests.get(f"{base_url}/health", timeout=10)
            assert health.status_code == 200
            assert health.json()["status"] == "degraded"
            assert health.json()["checks"]["redis"]["status"] == "down"
            for buyer in buyers:
                buyer.join(timeout=60)
            during = len(outcomes)
        stop.set()
        after = requests.get(f"{base_url}/health", timeout=10).json()
        assert after["checks"]["redis"]["status"] == "up", after  # `healthy` also needs consumers: none run here

    assert during > 0
    assert {status for _, status, _ in outcomes} <= {200, 409}, [o for o in outcomes if o[1] not in (200, 409)]
    won = {booking: body["ticketIds"] for booking, status, body in outcomes if status == 200}
    held = [ticket for ids in won.values() for ticket in ids]
    assert len(held) == len(set(held)) == TICKETS, "every ticket sold once, none twice"
    assert all(len(ids) == 2 for ids in won.values())
    with app.app_context():
        rows = db.session.execute(
            text("SELECT booking_id, count(*) AS n FROM tickets WHERE event_id = :e AND status = 'Held'"
                 " GROUP BY booking_id"), {"e": event_id}).all()
    assert {str(row.booking_id): row.n for row in rows} == dict.fromkeys(won, 2)
