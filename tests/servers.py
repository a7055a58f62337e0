"""The API served by gunicorn for tests that need a real server (several workers, signals, HTTP clients)."""

import contextlib
import os
import socket
import subprocess
import sys
import time

import requests

from tests.databases import ROOT


def _serving(base_url):
    try:
        return requests.get(f"{base_url}/health/live", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def child_pids(pid):
    """Return the pids of a process's children (a gunicorn master's workers), read from /proc."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as listing:
            return [int(child) for child in listing.read().split()]
    except OSError:
        return []


def free_ports(count, host="127.0.0.1"):
    """Return `count` distinct ports free on `host` now."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind((host, 0))
        return [sock.getsockname()[1] for sock in sockets]


@contextlib.contextmanager
def running_gunicorn(database_url, workers=2, env=None):
    """Run the API under gunicorn on a free port; yield its base URL and the process."""
    port = free_ports(1)[0]
    environment = os.environ | {
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_ACCESS_LOG": "",
    } | (env or {})
    command = [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py", "wsgi:app"]
    process = subprocess.Popen(command, cwd=ROOT, env=environment)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while not _serving(base_url) or len(child_pids(process.pid)) < workers:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.1)
        yield base_url, process
    finally:
        process.terminate()
        process.wait(timeout=30)
