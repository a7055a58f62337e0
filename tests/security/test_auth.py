"""Bearer tokens: every mutating request needs one when API_TOKENS is set."""

import logging
import uuid

import pytest
from sqlalchemy import text

from app.extensions import db
from config import ProductionConfig

TOKENS = ["first-secret-token", "second-secret-token"]


@pytest.fixture
def secured(make_app):
    return make_app(API_TOKENS=TOKENS).test_client()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/Ticket/", {"eventId": 1, "quantity": 1}),
        ("post", "/api/Ticket/bulk", {"eventId": 1, "quantity": 1}),
        ("post", "/api/ticket/hold", {"eventId": 1, "bookingId": str(uuid.uuid4()), "numberOfTickets": 1}),
        ("post", "/api/Ticket/reserve", {"eventId": 1, "ticketIds": [str(uuid.uuid4())]}),
        ("post", "/api/Ticket/release", {"eventId": 1, "ticketIds": [str(uuid.uuid4())]}),
        ("patch", f"/api/Ticket/{uuid.uuid4()}/status", {"status": "Sold"}),
        ("delete", f"/api/Ticket/{uuid.uuid4()}", None),
    ],
)
@pytest.mark.parametrize("headers", [{}, bearer("wrong-token"), {"Authorization": "Basic Zm9vOmJhcg=="}, bearer("")])
def test_mutations_without_a_valid_token_are_401_and_change_nothing(secured, app_context, method, path, body, headers):
    response = getattr(secured, method)(path, json=body, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["code"] == 401 and "bearer token" in response.get_json()["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert db.session.execute(text("SELECT count(*) FROM tickets")).scalar_one() == 0


@pytest.mark.parametrize("token", TOKENS)
def test_any_configured_token_is_accepted(secured, token):
    response = secured.post("/api/Ticket/", json={"eventId": 1, "quantity": 1}, headers=bearer(token))
    assert response.status_code == 201


def test_reads_need_no_token(secured):
    assert secured.get("/api/Ticket/").status_code == 200
    assert secured.get("/health/live").status_code == 200


def test_without_api_tokens_no_token_is_needed(client):
    assert client.post("/api/Ticket/", json={"eventId": 1, "quantity": 1}).status_code == 201


def test_tokens_are_never_logged(secured, caplog):
    with caplog.at_level(logging.DEBUG):
        secured.post("/api/Ticket/", json={"eventId": 1, "quantity": 1}, headers=bearer(TOKENS[0]))
        secured.post("/api/Ticket/", json={"eventId": 1, "quantity": 1}, headers=bearer("leaked-guess"))
    assert TOKENS[0] not in caplog.text and "leaked-guess" not in caplog.text


def test_production_refuses_to_start_without_tokens(monkeypatch):
    monkeypatch.setattr(ProductionConfig, "API_TOKENS", [])
    monkeypatch.setattr(ProductionConfig, "ALLOW_UNAUTHENTICATED", False)
    with pytest.raises(ValueError, match="API_TOKENS"):
        ProductionConfig()
    monkeypatch.setattr(ProductionConfig, "ALLOW_UNAUTHENTICATED", True)
    assert ProductionConfig().DEV_ENDPOINTS_ENABLED is False
