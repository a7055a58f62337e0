"""Shared fixtures: a fresh test database on the real PostgreSQL, migrated with Alembic."""

import os
import uuid

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app import create_app
from app.commands import drop_database
from app.extensions import db
from config import TestConfig
from tests.databases import fresh_app
from tests.servers import running_gunicorn

# One tracer provider for the test process, recording every span in memory.
SPANS = InMemorySpanExporter()
_provider = TracerProvider()
_provider.add_span_processor(SimpleSpanProcessor(SPANS))
trace.set_tracer_provider(_provider)

TABLES = ("tickets", "event_settings", "ticket_status_changes", "idempotency_keys", "outbox_messages", "inbox_messages")


def _run_database_url():
    """The test database of this run: one per process, so parallel runs never collide."""
    base = make_url(TestConfig.SQLALCHEMY_DATABASE_URI)
    return base.set(database=f"{base.database}_{os.getpid()}").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url():
    """The URL of this run's test database."""
    return _run_database_url()


@pytest.fixture(scope="session")
def app(database_url):
    """The app bound to a test database created for this run and dropped after it."""
    url = database_url
    application = fresh_app(url)
    # No app context stays pushed: each test request gets its own, as in production.
    yield application
    with application.app_context():
        db.engine.dispose()
    drop_database(url)


@pytest.fixture
def app_context(app):
    """An app context for a test that reads or writes the database directly."""
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def make_app(app, database_url):
    """Build another app on this run's database with some settings changed (the engine is its own)."""
    built = []

    def make(**overrides):
        config = TestConfig()
        config.SQLALCHEMY_DATABASE_URI = database_url
        for name, value in overrides.items():
            setattr(config, name, value)
        application = create_app(config)
        built.append(application)
        return application

    yield make
    for application in built:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def client(app):
    """A Flask test client."""
    return app.test_client()


@pytest.fixture(autouse=True)
def clean_tables(request):
    """Empty every table after each test that used the test database; pure tests never make one."""
    yield
    if "app" not in request.fixturenames:
        return
    with request.getfixturevalue("app").app_context(), db.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(TABLES)}"))


@pytest.fixture
def spans():
    """The spans finished during this test (the in-memory exporter, emptied first)."""
    SPANS.clear()
    return SPANS


@pytest.fixture
def event_id():
    """A fresh event id for one test."""
    return uuid.uuid4().int % 2**62 + 1


@pytest.fixture
def make_tickets(client):
    """Create `quantity` tickets for an event through the API and return their ids."""

    def make(event_id, quantity=1):
        response = client.post("/api/Ticket/", json={"eventId": event_id, "quantity": quantity})
        assert response.status_code == 201, response.get_json()
        body = response.get_json()
        return [body["ticketId"]] if quantity == 1 else [ticket["ticketId"] for ticket in body]

    return make


@pytest.fixture
def live_server(app, database_url):
    """The API served by gunicorn with two workers on this run's database; yields its URL."""
    with running_gunicorn(database_url) as (base_url, _process):
        yield base_url
