"""Fixtures of the high-availability tests: the stateful services replicated on this machine (deploy/ha/)."""

import pytest

from tests.ha.postgres_formation import postgres_formation
from tests.ha.rabbitmq_cluster import clustered_rabbitmq
from tests.ha.redis_sentinel import redis_behind_sentinel


@pytest.fixture
def redis_sentinel(tmp_path):
    """A Redis master, a replica and three sentinels on free ports, always stopped and removed afterwards."""
    with redis_behind_sentinel(tmp_path / "redis") as setup:
        yield setup


@pytest.fixture
def rabbitmq_cluster(tmp_path):
    """Three clustered RabbitMQ nodes on free ports, always stopped and removed afterwards."""
    with clustered_rabbitmq(tmp_path / "rabbitmq") as cluster:
        yield cluster


@pytest.fixture
def postgres_ha():
    """A pg_auto_failover monitor, a primary and its synchronous standby on free ports, always stopped and removed."""
    with postgres_formation() as formation:
        yield formation
