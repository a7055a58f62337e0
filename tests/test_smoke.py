import requests


def test_health_reports_every_dependency(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "healthy", body
    assert set(body["checks"]) == {"postgres", "redis", "rabbitmq"}


def test_gunicorn_serves_the_api(live_server):
    assert requests.get(f"{live_server}/health/ready", timeout=5).json()["status"] == "ready"
