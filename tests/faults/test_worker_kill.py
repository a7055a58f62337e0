"""A gunicorn worker SIGKILLed mid-load: no half-applied change."""

import os
import signal
import threading
import time
import uuid

import pytest
import requests
from sqlalchemy import text

from app.extensions import db
from tests.servers import child_pids, running_gunicorn

pytestmark = pytest.mark.faults


def test_killing_a_worker_mid_load_leaves_every_hold_whole(app, database_url, event_id):
    answered = {}
    with running_gunicorn(database_url, workers=2) as (base_url, master):
        requests.post(f"{base_url}/api/Ticket/bulk", json={"eventId": event_id, "quantity": 2000}, timeout=30)
        stop = threading.Event()

        def buy():
            while not stop.is_set():
                booking = str(uuid.uuid4())
                body = {"eventId": event_id, "bookingId": booking, "numberOfTickets": 4}
                try:
                    response = requests.post(f"{base_url}/api/Ticket/hold", json=body, timeout=30)
                    answered[booking] = response.status_code
                except requests.ConnectionError:
                    answered[booking] = "lost"

        buyers = [threading.Thread(target=buy) for _ in range(8)]
        for buyer in buyers:
            buyer.start()
        time.sleep(1.5)
        for pid in child_pids(master.pid)[:1]:
            os.kill(pid, signal.SIGKILL)
        time.sleep(1.5)
        stop.set()
        for buyer in buyers:
            buyer.join(timeout=60)
        assert requests.get(f"{base_url}/health/ready", timeout=10).status_code == 200, "gunicorn replaced the worker"

    with app.app_context():
        rows = db.session.execute(
            text("SELECT booking_id, count(*) AS n FROM tickets WHERE event_id = :e AND status = 'Held'"
                 " GROUP BY booking_id"), {"e": event_id}).all()
        audit = db.session.execute(
            text("SELECT count(*) FROM ticket_status_changes c JOIN tickets t ON t.id = c.ticket_id"
                 " WHERE t.event_id = :e"), {"e": event_id}).scalar_one()
    held = {str(row.booking_id): row.n for row in rows}
    assert set(held.values()) <= {4}, "a hold was applied in part"
    assert audit == 4 * len(held), "every held ticket has its audit row, no more"
    assert {b for b, status in answered.items() if status == 200} <= set(held)
    assert len(held) > 10
