"""Extensions, created unbound here and bound to the app in `create_app`."""

import redis
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy.orm import DeclarativeBase

from app.metrics import http_metrics


class Base(DeclarativeBase):
    """Declarative base of every model."""


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = Api()
prometheus = http_metrics()


class RedisClient:
    """A redis-py client bound to the app's `REDIS_URL`.

    Socket timeouts are short and a failed command is retried once, at once (a pooled
    connection may be stale after a Redis restart): when Redis is gone the service must
    notice within milliseconds and go on with the database alone.
    """

    def __init__(self):
        self.client = None

    def init_app(self, app):
        """Create the connection pool for `app`."""
        timeout = app.config["REDIS_SOCKET_TIMEOUT_SECONDS"]
        self.client = redis.Redis.from_url(
            app.config["REDIS_URL"],
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1),
        )
        app.extensions["redis"] = self


redis_client = RedisClient()
