import requests


def test_health_reports_every_dependency(client):
    """Every dependency is up; no consumer runs here, so `healthy` is tests/messaging/test_health.py's to show."""
    response = client.get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body["checks"]) == {"postgres", "redis", "rabbitmq"}
    assert {check["status"] for check in body["checks"].values()} == {"up"}, body
    assert all(problem.startswith("queue ") for problem in body["problems"]), body


def test_gunicorn_serves_the_api(live_server):
    assert requests.get(f"{live_server}/health/ready", timeout=5).json()["status"] == "ready"
