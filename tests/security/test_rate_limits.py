"""Rate limits on ticket creation, per client, kept in Redis."""

import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from app.extensions import db


@pytest.fixture
def limited(make_app):
    """An app with low creation limits, and two clients (tokens) no other test has used."""
    tokens = [f"token-{uuid.uuid4().hex}", f"token-{uuid.uuid4().hex}"]
    app = make_app(RATELIMIT_ENABLED=True, CREATE_RATE_LIMIT="3/minute", BULK_RATE_LIMIT="2/minute",
                   API_TOKENS=tokens)
    return SimpleNamespace(app=app, client=app.test_client(), first=tokens[0], second=tokens[1])


def create(limited, path, token, event_id):
    return limited.client.post(path, json={"eventId": event_id, "quantity": 1},
                               headers={"Authorization": f"Bearer {token}"})


def count(app, event_id):
    with app.app_context():
        return db.session.execute(text("SELECT count(*) FROM tickets WHERE event_id = :e"), {"e": event_id}).scalar()


@pytest.mark.parametrize(("path", "allowed"), [("/api/Ticket/", 3), ("/api/Ticket/bulk", 2)])
def test_creation_over_the_limit_is_429_with_retry_after_and_creates_nothing(limited, event_id, path, allowed):
    answers = [create(limited, path, limited.first, event_id).status_code for _ in range(allowed + 2)]
    assert answers == [201] * allowed + [429, 429]
    refused = create(limited, path, limited.first, event_id)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.get_json()["code"] == 429
    assert count(limited.app, event_id) == allowed


def test_limits_are_per_client(limited, event_id):
    for _ in range(3):
        assert create(limited, "/api/Ticket/", limited.first, event_id).status_code == 201
    assert create(limited, "/api/Ticket/", limited.first, event_id).status_code == 429
    assert create(limited, "/api/Ticket/", limited.second, event_id).status_code == 201


def test_reads_are_not_limited(limited):
    for _ in range(10):
        assert limited.client.get("/api/Ticket/").status_code == 200


def test_with_redis_down_creation_goes_on(make_app, event_id):
    client = make_app(RATELIMIT_ENABLED=True, REDIS_URL="redis://127.0.0.1:1/0", CREATE_RATE_LIMIT="1/minute")
    answers = [client.test_client().post("/api/Ticket/", json={"eventId": event_id, "quantity": 1}).status_code
               for _ in range(2)]
    assert answers == [201, 201]


def test_made_up_tokens_do_not_buy_a_fresh_allowance(make_app, event_id):
    client = make_app(RATELIMIT_ENABLED=True, CREATE_RATE_LIMIT="2/minute").test_client()
    prefix = {"REMOTE_ADDR": f"127.0.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"}
    answers = [
        client.post("/api/Ticket/", json={"eventId": event_id, "quantity": 1}, environ_base=prefix,
                    headers={"Authorization": f"Bearer invented-{uuid.uuid4().hex}"}).status_code
        for _ in range(4)
    ]
    assert answers == [201, 201, 429, 429]


def test_only_the_429_carries_retry_after(limited, event_id):
    created = create(limited, "/api/Ticket/", limited.first, event_id)
    assert created.status_code == 201 and "Retry-After" not in created.headers
