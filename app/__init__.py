"""The application factory."""

import logging
import time

from flask import Flask, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from app.api import docs, health, pages, tickets
from app.api.errors import register_error_handlers
from app.api.headers import correlation_id
from app.api.routing import (
    CaseInsensitivePrefix,
    EventIdConverter,
    TicketIdConverter,
    event_id_schema,
    ticket_id_schema,
)
from app.commands import register_commands
from app.context import set_origin
from app.extensions import api, db, limiter, migrate, prometheus, redis_client
from app.failover import follow_the_primary
from app.logs import configure_logging
from app.pool import ping_when_idle
from app.tracing import instrument_app, instrument_libraries
from config import config_for

log = logging.getLogger(__name__)


def create_app(config_object=None):
    """Build the Flask app: extensions, blueprints, error handlers, hooks, commands."""
    app = Flask(__name__)
    app.config.from_object(config_object or config_for()())
    configure_logging(app.config["LOG_LEVEL"])
    instrument_libraries()
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_request_hooks(app)
    register_commands(app)
    instrument_app(app)
    app.wsgi_app = CaseInsensitivePrefix(app.wsgi_app, tickets.PREFIX)
    if app.config["PROXY_FIX_X_FOR"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"])
    return app


def register_extensions(app):
    """Bind the unbound extensions to `app`."""
    db.init_app(app)
    with app.app_context():
        ping_when_idle(db.engine, app.config["DB_PING_IDLE_SECONDS"])
        follow_the_primary(db.engine)
    migrate.init_app(app, db, directory="migrations")
    redis_client.init_app(app)
    prometheus.init_app(app)
    limiter.init_app(app)
    app.url_map.converters["ticket_id"] = TicketIdConverter
    app.url_map.converters["event_id"] = EventIdConverter
    api.init_app(app)
    api.register_converter(TicketIdConverter, ticket_id_schema)
    api.register_converter(EventIdConverter, event_id_schema)
    if "bearerAuth" not in api.spec.components.security_schemes:
        api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})


def register_blueprints(app):
    """Register the API's blueprints, the Swagger UI assets and the HTML pages."""
    api.register_blueprint(tickets.blp)
    api.register_blueprint(health.blp)
    app.register_blueprint(docs.blp)
    app.register_blueprint(pages.blp)


def register_request_hooks(app):
    """Tag every request with a correlation id (`X-Correlation-ID` or a new one); log slow ones."""
    slow_ms = app.config["SLOW_REQUEST_MS"]

    @app.before_request
    def take_correlation_id():
        g.started = time.perf_counter()
        g.correlation_id = correlation_id()
        set_origin(source="api", correlation_id=g.correlation_id)

    @app.after_request
    def return_correlation_id(response):
        response.headers["X-Correlation-ID"] = g.get("correlation_id", "")
        elapsed_ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        if elapsed_ms >= slow_ms:
            log.warning("slow request: %s %s took %.0f ms", request.method, request.path, elapsed_ms,
                        extra={"duration_ms": round(elapsed_ms, 1), "status": response.status_code})
        return response

    @app.teardown_request
    def forget_correlation_id(_error):
        set_origin(source="api", correlation_id=None)
