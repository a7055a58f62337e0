"""`/metrics` under gunicorn: every worker counted, and output promtool accepts."""

import os
import subprocess

import requests

from tests.databases import ROOT
from tests.servers import running_gunicorn

REQUESTS = 60


def test_metrics_add_up_every_gunicorn_worker_and_pass_promtool(app, database_url, tmp_path, make_tickets, event_id):
    (ticket_id,) = make_tickets(event_id, 1)
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"), "CACHE_TICKET_SECONDS": "0"}
    with running_gunicorn(database_url, workers=4, env=env) as (base_url, _):
        for _ in range(REQUESTS):
            with requests.Session() as session:  # a new connection each time, so the workers share the load
                response = session.get(f"{base_url}/api/Ticket/{ticket_id}", timeout=10)
            assert response.status_code == 200
        exposition = requests.get(f"{base_url}/metrics", timeout=10).text
    assert len(os.listdir(tmp_path / "metrics")) >= 4, "every worker wrote its own metrics files"
    line = next(
        line for line in exposition.splitlines()
        if line.startswith("flask_http_request_duration_seconds_count{")
        and 'endpoint="tickets.TicketById"' in line and 'status="200"' in line and 'method="GET"' in line
    )
    assert float(line.rsplit(" ", 1)[1]) == REQUESTS
    promtool = os.environ.get("PROMTOOL", os.path.join(ROOT, ".run", "tools", "promtool"))
    check = subprocess.run(
        [promtool, "check", "metrics"], input=exposition, capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
