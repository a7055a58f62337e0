"""Configuration classes, read from the environment once at import.

Every variable is documented in `.env.example` and docs/configuration.md. The original .NET
service's variable names (`ConnectionStrings__DefaultConnection`, `ConnectionStrings__Redis`,
`RabbitMq__*`) are honoured when the Python names are not set, so an existing
deployment can swap this service in without changing its environment.
"""

import os
import re
from decimal import Decimal, InvalidOperation
from urllib.parse import quote, unquote, urlsplit

LOCK_STRATEGIES = ("ticket", "event", "none")
MESSAGE_FORMATS = ("raw", "envelope")
QUEUE_TYPES = ("classic", "quorum")
CONTRACT_SETS = ("readme", "ticketer")
TARGET_SESSION_ATTRS = ("any", "read-write", "read-only", "primary", "standby", "prefer-standby")  # libpq's
LOCAL_DATABASE_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/tickets"
ONE_DAY_SECONDS = 86_400


def _env(name, default=None):
    value = os.environ.get(name)
    return default if value in (None, "") else value


def _env_int(name, default):
    return int(_env(name, default))


def _env_bool(name, default):
    return str(_env(name, default)).lower() in ("1", "true", "yes", "on")


def npgsql_to_url(connection_string):
    """Turn an Npgsql connection string (`Host=..;Port=..;Database=..`) into a URL.

    `Host` may list several servers (`Host=a:5432,b:5433`; `Port` is the port of those
    without one); they go into the URL's query, with `Target Session Attributes`, the way
    SQLAlchemy hands libpq several hosts.

    :raises ValueError: if `Target Session Attributes` is one libpq does not know.
    """
    parts = {}
    for item in connection_string.split(";"):
        if "=" in item:
            key, value = item.split("=", 1)
            parts[key.strip().lower().replace(" ", "")] = value.strip()
    user = parts.get("username") or parts.get("userid") or parts.get("user") or "postgres"
    password = parts.get("password")
    credentials = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    hosts = [host.strip() for host in (parts.get("host") or parts.get("server") or "127.0.0.1").split(",")]
    port = parts.get("port", "5432")
    endpoints = [host if re.search(r":\d+$", host) else f"{host}:{port}" for host in hosts if host]
    database = parts.get("database", "tickets")
    target = parts.get("targetsessionattributes", "").lower()
    if target and target not in TARGET_SESSION_ATTRS:
        raise ValueError(f"Target Session Attributes must be one of {', '.join(TARGET_SESSION_ATTRS)}, not {target!r}")
    if len(endpoints) == 1 and not target:
        return f"postgresql+psycopg2://{credentials}@{endpoints[0]}/{database}"
    query = [f"host={endpoint}" for endpoint in endpoints] + ([f"target_session_attrs={target}"] if target else [])
    return f"postgresql+psycopg2://{credentials}@/{database}?{'&'.join(query)}"


def _stackexchange_parts(configuration):
    """Split a StackExchange.Redis configuration into its endpoints and its options (names in lower case)."""
    parts = [part.strip() for part in configuration.split(",") if part.strip()]
    options = dict(part.split("=", 1) for part in parts if "=" in part)
    return [part for part in parts if "=" not in part], {name.lower(): value for name, value in options.items()}


def stackexchange_to_url(configuration):
    """Turn a StackExchange.Redis configuration (`host:port,password=..`) into a URL."""
    endpoints, settings = _stackexchange_parts(configuration)
    password = settings.get("password")
    credentials = f":{quote(password, safe='')}@" if password else ""
    scheme = "rediss" if settings.get("ssl", "").lower() == "true" else "redis"
    return f"{scheme}://{credentials}{endpoints[0]}/0"


def stackexchange_sentinels(configuration):
    """Return the Sentinel endpoints and master name of a StackExchange.Redis configuration with `serviceName=`.

    Without `serviceName` its endpoints are Redis servers, not sentinels: ([], None).
    """
    endpoints, settings = _stackexchange_parts(configuration)
    return (endpoints, settings["servicename"]) if settings.get("servicename") else ([], None)


def redis_credentials(url):
    """Return the username, password, database and TLS switch of a Redis URL, to give a master found by Sentinel."""
    parts = urlsplit(url)
    credentials = {"db": int(parts.path.strip("/") or 0)}
    if parts.username:
        credentials["username"] = unquote(parts.username)
    if parts.password:
        credentials["password"] = unquote(parts.password)
    if parts.scheme == "rediss":
        credentials["ssl"] = True
    return credentials


def _hosts_in_query(rest):
    """Move libpq's host list (`user@h1:p1,h2:p2/db?..`) into the query (`user@/db?host=h1:p1&host=h2:p2&..`).

    SQLAlchemy reads several hosts only from the query; a URL with one host is left as it is.
    """
    location, slash, tail = rest.partition("/")
    credentials, at, hosts = location.rpartition("@")
    if "," not in hosts:
        return rest
    path, _, query = tail.partition("?")
    listed = "&".join(f"host={host}" for host in hosts.split(",") if host)
    return f"{credentials}{at}{slash}{path}?{listed}" + (f"&{query}" if query else "")


def _with_psycopg2(url):
    scheme, rest = url.split("://", 1)
    if scheme in ("postgres", "postgresql", "postgresql+psycopg2"):
        return f"postgresql+psycopg2://{_hosts_in_query(rest)}"
    return url


def _database_url():
    url = _env("DATABASE_URL")
    if url:
        return _with_psycopg2(url)
    npgsql = _env("ConnectionStrings__DefaultConnection")
    return npgsql_to_url(npgsql) if npgsql else LOCAL_DATABASE_URL


def _redis_url():
    url = _env("REDIS_URL")
    if url:
        return url
    configuration = _env("ConnectionStrings__Redis")
    return stackexchange_to_url(configuration) if configuration else "redis://127.0.0.1:6379/0"


def _redis_sentinels():
    """Return the sentinels (`host:port` each, port 26379 if none) and the master's name they watch, or ([], None)."""
    listed = _env("REDIS_SENTINELS")
    endpoints, master = [item.strip() for item in (listed or "").split(",") if item.strip()], None
    configuration = _env("ConnectionStrings__Redis")
    if not listed and not _env("REDIS_URL") and configuration:
        endpoints, master = stackexchange_sentinels(configuration)
    return [item if ":" in item else f"{item}:26379" for item in endpoints], _env("REDIS_SENTINEL_MASTER", master)


def _rabbitmq_url():
    url = _env("RABBITMQ_URL")
    if url:
        return url
    # RabbitMq__Host may list a cluster's nodes, comma-separated, each `host` (port 5672) or `host:port`.
    hosts = [host.strip() for host in _env("RabbitMq__Host", "127.0.0.1").split(",") if host.strip()]
    user = quote(_env("RabbitMq__Username", "guest"), safe="")
    password = quote(_env("RabbitMq__Password", "guest"), safe="")
    vhost = quote(_env("RabbitMq__VirtualHost", "/"), safe="")
    nodes = (host if re.search(r":\d+$", host) else f"{host}:5672" for host in hosts)
    return ",".join(f"amqp://{user}:{password}@{node}/{vhost}" for node in nodes)


def _check_sentinels(config):
    for endpoint in config.REDIS_SENTINELS:
        host, _, port = endpoint.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65_536:
            raise ValueError(f"REDIS_SENTINELS must be host:port pairs separated by commas, not {endpoint!r}")
    if config.REDIS_SENTINELS and not config.REDIS_SENTINEL_MASTER:
        raise ValueError("REDIS_SENTINEL_MASTER must name the master the sentinels of REDIS_SENTINELS watch")


def _check_sales(config):
    try:
        price = Decimal(config.DEFAULT_TICKET_PRICE)
    except InvalidOperation:
        price = None
    if price is None or not price.is_finite() or price < 0:
        raise ValueError(f"DEFAULT_TICKET_PRICE must be a decimal amount, not {config.DEFAULT_TICKET_PRICE!r}")
    if not re.fullmatch(r"[A-Z]{3}", config.DEFAULT_CURRENCY):
        raise ValueError(f"DEFAULT_CURRENCY must be an ISO 4217 code such as USD, not {config.DEFAULT_CURRENCY!r}")
    if config.MAX_TICKETS_PER_CUSTOMER < 0:
        raise ValueError("MAX_TICKETS_PER_CUSTOMER must be 0 (no limit) or more")


def _check_retention(config):
    # An inbox row must outlive every redelivery of its message, or the copy would be applied again.
    if max(config.OUTBOX_RETENTION_SECONDS, ONE_DAY_SECONDS) > config.INBOX_RETENTION_SECONDS:
        raise ValueError("INBOX_RETENTION_SECONDS must be at least OUTBOX_RETENTION_SECONDS and one day (86400).")
    if config.OUTBOX_RETENTION_SECONDS < 0 or config.RETENTION_INTERVAL_SECONDS < 0 or config.RETENTION_BATCH_SIZE < 1:
        raise ValueError("OUTBOX_RETENTION_SECONDS and RETENTION_INTERVAL_SECONDS must be at least 0, "
                         "RETENTION_BATCH_SIZE at least 1.")


class Config:
    """Settings for running the service against local PostgreSQL, Redis and RabbitMQ."""

    ENV_NAME = "development"
    TESTING = False
    LOG_LEVEL = _env("LOG_LEVEL", "INFO").upper()

    SQLALCHEMY_DATABASE_URI = _database_url()
    DB_POOL_SIZE = _env_int("DB_POOL_SIZE", 5)
    DB_PING_IDLE_SECONDS = float(_env("DB_PING_IDLE_SECONDS", 1))
    DB_STATEMENT_TIMEOUT_MS = _env_int("DB_STATEMENT_TIMEOUT_MS", 60_000)
    DB_LOCK_TIMEOUT_MS = _env_int("DB_LOCK_TIMEOUT_MS", 2_000)
    REDIS_URL = _redis_url()
    # With sentinels, the master is the one they name; REDIS_URL gives only its credentials and database.
    REDIS_SENTINELS, REDIS_SENTINEL_MASTER = _redis_sentinels()
    REDIS_SOCKET_TIMEOUT_SECONDS = float(_env("REDIS_SOCKET_TIMEOUT_SECONDS", 0.5))
    LOCK_STRATEGY = _env("LOCK_STRATEGY", "ticket")
    LOCK_TTL_SECONDS = float(_env("LOCK_TTL_SECONDS", 10))
    LOCK_WAIT_SECONDS = float(_env("LOCK_WAIT_SECONDS", 2))
    RABBITMQ_URL = _rabbitmq_url()
    CACHE_TICKET_SECONDS = _env_int("CACHE_TICKET_SECONDS", 60)
    CACHE_SUMMARY_SECONDS = _env_int("CACHE_SUMMARY_SECONDS", 2)
    SOLD_OUT_SECONDS = float(_env("SOLD_OUT_SECONDS", 3))
    SLOW_REQUEST_MS = _env_int("SLOW_REQUEST_MS", 500)
    # A message process serves its metrics on METRICS_PORT (0: none), unless supervisord gave it its program's
    # slot (1-9) and its process number (0-99), as deploy/supervisord.conf does: its port is then
    # METRICS_PORT_BASE + 100 * slot + number, so one `make run` takes base+100 to base+999 at most.
    METRICS_PORT_BASE = _env_int("METRICS_PORT_BASE", 9100)
    METRICS_PORT_SLOT = _env_int("METRICS_PORT_SLOT", 0)
    METRICS_PROCESS_NUM = _env_int("METRICS_PROCESS_NUM", 0)
    EXPLICIT_METRICS_PORT = _env_int("METRICS_PORT", 0)

    @property
    def METRICS_PORT(self):  # noqa: N802 - the processes read this key
        """Return this process's metrics port: from its supervisord slot, else METRICS_PORT (0: none).

        :raises ValueError: if the base leaves no room for 9 slots of 100 ports, or the slot or number is out of range.
        """
        base, slot, number = self.METRICS_PORT_BASE, self.METRICS_PORT_SLOT, self.METRICS_PROCESS_NUM
        if not 0 < base <= 65_535 - 999:
            raise ValueError(f"METRICS_PORT_BASE must be 1 to 64536 (make run uses base+100 to base+999), not {base}")
        if not slot:
            return self.EXPLICIT_METRICS_PORT
        if not (0 < slot < 10 and 0 <= number < 100):
            raise ValueError(f"METRICS_PORT_SLOT must be 1 to 9 and METRICS_PROCESS_NUM 0 to 99 (at most 100 "
                             f"CONSUMERS_PER_QUEUE or RELAYS), not {slot} and {number}")
        return base + 100 * slot + number
    MESSAGE_NAMESPACE = _env("MESSAGE_NAMESPACE", "Ticketer.Contracts")
    MESSAGE_FORMAT = _env("MESSAGE_FORMAT", "raw")
    MESSAGE_CONTRACTS = tuple(name.strip() for name in _env("MESSAGE_CONTRACTS", "readme").split(",") if name.strip())
    DEFAULT_TICKET_PRICE = _env("DEFAULT_TICKET_PRICE", "25.00")
    DEFAULT_CURRENCY = _env("DEFAULT_CURRENCY", "USD")
    MAX_TICKETS_PER_CUSTOMER = _env_int("MAX_TICKETS_PER_CUSTOMER", 0)  # 0: no limit unless the event sets one
    CONSUMER_PREFETCH = _env_int("CONSUMER_PREFETCH", 100)
    CONSUMER_BATCH = _env_int("CONSUMER_BATCH", 50)
    CONSUMER_LINGER_MS = float(_env("CONSUMER_LINGER_MS", 5))
    RABBITMQ_QUEUE_TYPE = _env("RABBITMQ_QUEUE_TYPE", "classic")
    OUTBOX_BATCH_SIZE = _env_int("OUTBOX_BATCH_SIZE", 200)
    OUTBOX_POLL_SECONDS = float(_env("OUTBOX_POLL_SECONDS", 1))
    HEALTH_CHECK_TIMEOUT_SECONDS = float(_env("HEALTH_CHECK_TIMEOUT_SECONDS", 2))
    HEALTH_CACHE_SECONDS = float(_env("HEALTH_CACHE_SECONDS", 1.5))
    OUTBOX_LAG_SECONDS = float(_env("OUTBOX_LAG_SECONDS", 30))

    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 1_048_576)
    CREATE_MAX_TICKETS = _env_int("CREATE_MAX_TICKETS", 1_000)
    BULK_MAX_TICKETS = _env_int("BULK_MAX_TICKETS", 1_000_000)
    EVENT_STREAM_BATCH = _env_int("EVENT_STREAM_BATCH", 2_000)
    HOLD_DEFAULT_SECONDS = _env_int("HOLD_DEFAULT_SECONDS", 600)
    HOLD_MAX_SECONDS = _env_int("HOLD_MAX_SECONDS", 3_600)
    SWEEP_INTERVAL_SECONDS = float(_env("SWEEP_INTERVAL_SECONDS", 1))
    SWEEP_BATCH_SIZE = _env_int("SWEEP_BATCH_SIZE", 500)
    OUTBOX_RETENTION_SECONDS = _env_int("OUTBOX_RETENTION_SECONDS", 604_800)  # 7 days after publishing
    INBOX_RETENTION_SECONDS = _env_int("INBOX_RETENTION_SECONDS", 1_209_600)  # 14 days after applying
    RETENTION_INTERVAL_SECONDS = float(_env("RETENTION_INTERVAL_SECONDS", 60))
    RETENTION_BATCH_SIZE = _env_int("RETENTION_BATCH_SIZE", 5_000)
    DEV_ENDPOINTS_ENABLED = _env_bool("DEV_ENDPOINTS_ENABLED", True)
    API_TOKENS = [token.strip() for token in _env("API_TOKENS", "").split(",") if token.strip()]
    ALLOW_UNAUTHENTICATED = _env_bool("ALLOW_UNAUTHENTICATED", False)
    PROXY_FIX_X_FOR = _env_int("PROXY_FIX_X_FOR", 0)
    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = False  # Retry-After goes on the 429 alone (app/errors.py)
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_KEY_PREFIX = "ratelimit"
    CREATE_RATE_LIMIT = _env("CREATE_RATE_LIMIT", "120/minute")
    BULK_RATE_LIMIT = _env("BULK_RATE_LIMIT", "10/minute")

    API_TITLE = "Ticket Service"
    API_VERSION = "1.0"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "/swagger"
    OPENAPI_SWAGGER_UI_URL = "/swagger-ui-assets/"

    @property
    def RATELIMIT_STORAGE_URI(self):  # noqa: N802 - Flask-Limiter reads this key
        if self.REDIS_SENTINELS:
            return f"redis+sentinel://{','.join(self.REDIS_SENTINELS)}/{self.REDIS_SENTINEL_MASTER}"
        return self.REDIS_URL

    @property
    def RATELIMIT_STORAGE_OPTIONS(self):  # noqa: N802 - Flask-Limiter reads this key
        timeout = self.REDIS_SOCKET_TIMEOUT_SECONDS
        options = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
        if not self.REDIS_SENTINELS:
            return options
        # Counts live on the master alone; the sentinels get the timeouts but not the master's credentials.
        sentinels = options | {"username": None, "password": None}
        return options | redis_credentials(self.REDIS_URL) | {"use_replicas": False, "sentinel_kwargs": sentinels}

    def __init__(self):
        if self.LOCK_STRATEGY not in LOCK_STRATEGIES:
            raise ValueError(f"LOCK_STRATEGY must be one of {', '.join(LOCK_STRATEGIES)}, not {self.LOCK_STRATEGY!r}")
        if self.RABBITMQ_QUEUE_TYPE not in QUEUE_TYPES:
            raise ValueError(f"RABBITMQ_QUEUE_TYPE must be classic or quorum, not {self.RABBITMQ_QUEUE_TYPE!r}")
        if self.CONSUMER_BATCH < 1 or self.CONSUMER_LINGER_MS < 0:
            raise ValueError("CONSUMER_BATCH must be at least 1 and CONSUMER_LINGER_MS at least 0.")
        if self.MESSAGE_FORMAT not in MESSAGE_FORMATS:
            raise ValueError(f"MESSAGE_FORMAT must be one of {', '.join(MESSAGE_FORMATS)}, not {self.MESSAGE_FORMAT!r}")
        unknown = [name for name in self.MESSAGE_CONTRACTS if name not in CONTRACT_SETS]
        if unknown or not self.MESSAGE_CONTRACTS:
            raise ValueError(f"MESSAGE_CONTRACTS must name one or more of {', '.join(CONTRACT_SETS)}, not {unknown}")
        _check_sales(self)
        _check_sentinels(self)
        _check_retention(self)

    @property
    def SQLALCHEMY_ENGINE_OPTIONS(self):  # noqa: N802 - Flask reads config keys in capitals
        options = (
            f"-c statement_timeout={self.DB_STATEMENT_TIMEOUT_MS}"
            f" -c lock_timeout={self.DB_LOCK_TIMEOUT_MS}"
            " -c timezone=UTC -c application_name=ticket-service"
        )
        return {
            "pool_size": self.DB_POOL_SIZE,
            "max_overflow": self.DB_POOL_SIZE,
            "pool_timeout": 5,
            "connect_args": {"options": options, "connect_timeout": 5},
        }


class TestConfig(Config):
    """Settings for the test suite: its own database, created and dropped by the tests.

    Rate limits are off (the suite creates tickets fast); their tests switch them on.
    """

    ENV_NAME = "test"
    TESTING = True
    RATELIMIT_ENABLED = False
    SQLALCHEMY_DATABASE_URI = _with_psycopg2(
        _env("TEST_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/tickets_test")
    )


class ProductionConfig(Config):
    """Settings for production: development endpoints off, and no start without API tokens."""

    ENV_NAME = "production"
    DEV_ENDPOINTS_ENABLED = _env_bool("DEV_ENDPOINTS_ENABLED", False)
    DB_POOL_SIZE = _env_int("DB_POOL_SIZE", 10)

    def __init__(self):
        super().__init__()
        if not self.API_TOKENS and not self.ALLOW_UNAUTHENTICATED:
            raise ValueError("Production needs API_TOKENS (or ALLOW_UNAUTHENTICATED=true to run without auth).")


CONFIGS = {"development": Config, "test": TestConfig, "production": ProductionConfig}


def config_for(name=None):
    """Return the config class named by `name` or `APP_ENV` (default: development)."""
    return CONFIGS[name or _env("APP_ENV", "development")]
