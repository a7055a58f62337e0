"""Extensions, created unbound here and bound to the app in `create_app`."""

import redis
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base of every model."""


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = Api()


class RedisClient:
    """A redis-py client bound to the app's `REDIS_URL`, with short socket timeouts."""

    def __init__(self):
        self.client = None

    def init_app(self, app):
        """Create the connection pool for `app`."""
        timeout = app.config["HEALTH_CHECK_TIMEOUT_SECONDS"]
        self.client = redis.Redis.from_url(
            app.config["REDIS_URL"], socket_timeout=timeout, socket_connect_timeout=timeout
        )
        app.extensions["redis"] = self


redis_client = RedisClient()
