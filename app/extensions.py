"""Extensions, created unbound here and bound to the app in `create_app`."""

import redis
from flask import current_app
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel
from sqlalchemy.orm import DeclarativeBase

from app.api.auth import client_identity
from app.metrics import http_metrics
from config import redis_credentials


class Base(DeclarativeBase):
    """Declarative base of every model."""


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = Api()
prometheus = http_metrics()
limiter = Limiter(key_func=client_identity)


class RedisClient:
    """A redis-py client per app, bound to its `REDIS_URL`, or to the master its `REDIS_SENTINELS` name.

    Socket timeouts are short and a failed command is retried once, at once (a pooled
    connection may be stale after a Redis restart): when Redis is gone the service must
    notice within milliseconds and go on with the database alone. Behind Sentinel, every
    new connection asks the sentinels for the master, and a connection to a master that was
    demoted (its READONLY answer) is dropped as a connection error: the retry reaches the
    new master, and while there is none the call fails like a call to a Redis that is down.
    """

    def init_app(self, app):
        """Create the connection pool for `app`."""
        config = app.config
        timeouts = {"socket_timeout": config["REDIS_SOCKET_TIMEOUT_SECONDS"],
                    "socket_connect_timeout": config["REDIS_SOCKET_TIMEOUT_SECONDS"]}
        retry = Retry(NoBackoff(), 1)
        if not config["REDIS_SENTINELS"]:
            app.extensions["redis"] = redis.Redis.from_url(config["REDIS_URL"], retry=retry, **timeouts)
            return
        endpoints = (endpoint.rpartition(":") for endpoint in config["REDIS_SENTINELS"])
        sentinels = [(host, int(port)) for host, _, port in endpoints]
        sentinel = Sentinel(sentinels, sentinel_kwargs=timeouts | {"retry": retry}, **timeouts)
        app.extensions["redis"] = sentinel.master_for(
            config["REDIS_SENTINEL_MASTER"], retry=retry, **redis_credentials(config["REDIS_URL"])
        )

    @property
    def client(self):
        """Return the current app's client."""
        return current_app.extensions["redis"]


redis_client = RedisClient()
