"""Stopping and starting the machine's real PostgreSQL and Redis, always restored."""

import contextlib
import glob
import os
import subprocess
import time

import redis

REDIS_START = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "",
    "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log",
]


def _postgres_version():
    return sorted(os.path.basename(path) for path in glob.glob("/etc/postgresql/*"))[-1]


def wait_until(check, timeout=30):
    """Poll `check()` until it is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{check.__name__} did not become true in {timeout}s")
        time.sleep(0.1)


def redis_up():
    try:
        return redis.Redis(host="127.0.0.1", port=6379, socket_timeout=0.5).ping()
    except redis.RedisError:
        return False


def postgres_up():
    return subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"], check=False).returncode == 0


@contextlib.contextmanager
def redis_stopped():
    """Stop Redis for the block; start it again afterwards, whatever happens."""
    with contextlib.suppress(redis.RedisError):
        redis.Redis(host="127.0.0.1", port=6379).shutdown(nosave=True)
    wait_until(lambda: not redis_up())
    try:
        yield
    finally:
        subprocess.run(REDIS_START, check=True, capture_output=True)
        wait_until(redis_up)


@contextlib.contextmanager
def postgres_stopped():
    """Stop PostgreSQL for the block; start it again afterwards, whatever happens."""
    cluster = ["pg_ctlcluster", "--skip-systemctl-redirect", _postgres_version(), "main"]
    subprocess.run([*cluster, "stop", "-m", "fast"], check=True, capture_output=True)
    try:
        yield
    finally:
        subprocess.run([*cluster, "start"], check=True, capture_output=True)
        wait_until(postgres_up, timeout=60)
