"""deploy/ha/postgres.sh's formation (pg_auto_failover) in a directory of its own: started, read, killed.

The directory is made under the system's temporary directory, open to others: every process of
the formation runs as the postgres user, which cannot enter pytest's own temporary directories.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "ha" / "postgres.sh"
HOST = "127.0.0.1"
START_SECONDS = 90
STOP_SECONDS = 60


def _free_ports(count):
    """Return `count` distinct ports nothing listens on now."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass(frozen=True)
class Formation:
    """A running formation: its directory, its ports and the service's DATABASE_URL."""

    directory: Path
    monitor_port: int
    node_ports: tuple
    database_url: str

    def states(self):
        """Return `{port: (reported state, assigned state)}` of each data node, as the monitor knows them."""
        monitor = psycopg2.connect(host=HOST, port=self.monitor_port, user="postgres", dbname="pg_auto_failover",
                                   connect_timeout=5)
        with contextlib.closing(monitor), monitor.cursor() as cursor:
            cursor.execute("SELECT nodeport, reportedstate, goalstate FROM pgautofailover.node")
            return {port: (reported, assigned) for port, reported, assigned in cursor.fetchall()}

    def primary(self):
        """Return the port of the node that takes writes now (None while there is none)."""
        writable = ("primary", "wait_primary", "single")
        return next((port for port, (reported, assigned) in self.states().items()
                     if reported == assigned and reported in writable), None)

    def wait_for_primary(self, *, other_than=None, timeout=60):
        """Wait until a node other than `other_than` takes writes; return its port."""
        deadline = time.monotonic() + timeout
        while (port := self.primary()) in (None, other_than):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no new primary in {timeout}s: {self.states()}")
            time.sleep(0.2)
        return port

    def postmaster_pid(self, port):
        """Return the pid of a node's postmaster, from its data directory's postmaster.pid."""
        return int((self.directory / f"node-{port}" / "postmaster.pid").read_text().split()[0])

    def kill_postgres(self, port):
        """SIGKILL a node's postmaster (its pg_autoctl keeper lives on and reports it gone)."""
        os.kill(self.postmaster_pid(port), signal.SIGKILL)


@contextlib.contextmanager
def postgres_formation():
    """Start a monitor, a primary and a synchronous standby on free ports; always stop them and remove their files."""
    base = Path(tempfile.mkdtemp(prefix="tickets-postgres-ha-"))
    base.chmod(0o755)
    directory = base / "formation"
    monitor_port, *node_ports = _free_ports(3)
    env = os.environ | {"PG_HA_DIR": str(directory), "PG_HA_MONITOR_PORT": str(monitor_port),
                        "PG_HA_NODE_PORTS": " ".join(map(str, node_ports))}
    try:
        started = subprocess.run([str(SCRIPT), "start"], env=env, capture_output=True, text=True,
                                 timeout=START_SECONDS, check=False)
        if started.returncode != 0:
            raise RuntimeError(f"{SCRIPT.name} start failed:\n{started.stdout}\n{started.stderr}")
        settings = dict(line.split("=", 1) for line in started.stdout.splitlines() if "=" in line)
        yield Formation(directory, monitor_port, tuple(node_ports), settings["DATABASE_URL"])
    finally:
        subprocess.run([str(SCRIPT), "stop"], env=env, capture_output=True, timeout=STOP_SECONDS, check=False)
        shutil.rmtree(base, ignore_errors=True)
