"""Extensions, created unbound here and bound to the app in `create_app`."""

import redis
from flask import current_app
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy.orm import DeclarativeBase

from app.api.auth import client_identity
from app.metrics import http_metrics


class Base(DeclarativeBase):
    """Declarative base of every model."""


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = Api()
prometheus = http_metrics()
limiter = Limiter(key_func=client_identity)


class RedisClient:
    """A redis-py client per app, bound to its `REDIS_URL`.

    Socket timeouts are short and a failed command is retried once, at once (a pooled
    connection may be stale after a Redis restart): when Redis is gone the service must
    notice within milliseconds and go on with the database alone.
    """

    def init_app(self, app):
        """Create the connection pool for `app`."""
        timeout = app.config["REDIS_SOCKET_TIMEOUT_SECONDS"]
        app.extensions["redis"] = redis.Redis.from_url(
            app.config["REDIS_URL"],
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1),
        )

    @property
    def client(self):
        """Return the current app's client."""
        return current_app.extensions["redis"]


redis_client = RedisClient()
