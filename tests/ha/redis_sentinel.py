"""Redis behind Sentinel on this machine (deploy/ha/redis.sh), on free ports, in a directory of its own."""

import contextlib
import os
import shutil
import subprocess
import time
from dataclasses import dataclass

import redis

from tests.databases import ROOT
from tests.servers import free_ports

SCRIPT = os.path.join(ROOT, "deploy", "ha", "redis.sh")
HOST = "127.0.0.1"
MASTER_NAME = "tickets"


@dataclass
class SentinelSetup:
    """The running setup: its ports, and the service's settings that `start` printed."""

    base_dir: str
    master_port: int
    replica_port: int
    sentinel_ports: list
    settings: dict

    def pid(self, port):
        """Return the pid of the Redis server on `port`."""
        with open(os.path.join(self.base_dir, f"redis-{port}.pid"), encoding="ascii") as pidfile:
            return int(pidfile.read())

    def sentinel_master(self):
        """Return the port of the master every sentinel gives clients (None while one gives none, or they differ).

        It is what redis-py's Sentinel reads (SENTINEL MASTERS): the master's address, unless it is down.
        """
        named = set()
        for port in self.sentinel_ports:
            with self.node(port) as sentinel:
                state = sentinel.sentinel_master(MASTER_NAME)
            up = state["is_master"] and not state["is_sdown"] and not state["is_odown"]
            named.add(int(state["port"]) if up else None)
        return named.pop() if len(named) == 1 else None

    def node(self, port):
        """Return a client of one Redis server of the setup."""
        return redis.Redis(HOST, port, socket_timeout=1, socket_connect_timeout=1, decode_responses=True)

    def answers(self, port):
        """Whether the Redis server on `port` answers PING."""
        try:
            with self.node(port) as client:
                return client.ping()
        except redis.RedisError:
            return False

    def wait_for_new_master(self, old_port, timeout=20):
        """Wait until every sentinel names a master other than `old_port` and it is one; return its port."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            port = self.sentinel_master()
            if port not in (None, old_port):
                with contextlib.suppress(redis.RedisError), self.node(port) as client:
                    if client.info("replication")["role"] == "master":
                        return port
            time.sleep(0.02)
        raise TimeoutError(f"the sentinels named no new master in {timeout}s")

    def wait_for_role(self, port, role, timeout=20):
        """Wait until the Redis server on `port` has `role` (master or slave)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError), self.node(port) as client:
                if client.info("replication")["role"] == role:
                    return
            time.sleep(0.02)
        raise TimeoutError(f"Redis on port {port} did not become a {role} in {timeout}s")


def _script(command, environment):
    return subprocess.run([SCRIPT, command], env=environment, cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False)


@contextlib.contextmanager
def redis_behind_sentinel(base_dir):
    """Start a master, a replica and three sentinels in `base_dir`; yield them; always stop them and remove the dir."""
    master, replica, *sentinels = free_ports(5)
    environment = os.environ | {
        "REDIS_HA_DIR": str(base_dir),
        "REDIS_HA_MASTER_PORT": str(master),
        "REDIS_HA_REPLICA_PORT": str(replica),
        "REDIS_HA_SENTINEL_PORTS": " ".join(map(str, sentinels)),
        "REDIS_HA_MASTER_NAME": MASTER_NAME,
    }
    try:
        started = _script("start", environment)
        assert started.returncode == 0, started.stderr
        settings = dict(line.split("=", 1) for line in started.stdout.split())
        yield SentinelSetup(str(base_dir), master, replica, sentinels, settings)
    finally:
        stopped = _script("stop", environment)
        shutil.rmtree(base_dir, ignore_errors=True)
    assert stopped.returncode == 0, stopped.stderr
    assert not os.path.exists(base_dir)
