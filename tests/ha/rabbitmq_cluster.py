"""A three-node RabbitMQ cluster on this machine (deploy/ha/rabbitmq.sh), on free ports, in a directory of its own."""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass

from tests.databases import ROOT
from tests.servers import free_ports

SCRIPT = os.path.join(ROOT, "deploy", "ha", "rabbitmq.sh")
HOST = "127.0.0.1"
NODES = 3
SCRIPT_SECONDS = 120


@dataclass(frozen=True)
class Node:
    """One node of the cluster: its number for `rabbitmq.sh ctl`, its name, its AMQP port."""

    number: int
    name: str
    port: int

    @property
    def url(self):
        return f"amqp://guest:guest@{HOST}:{self.port}/%2F"


@dataclass
class Cluster:
    """The running cluster and the service's settings that `start` printed."""

    base_dir: str
    environment: dict
    nodes: list
    settings: dict

    def script(self, *args, timeout=SCRIPT_SECONDS):
        """Run deploy/ha/rabbitmq.sh with the cluster's settings; return what it printed."""
        result = subprocess.run([SCRIPT, *args], env=self.environment, capture_output=True, text=True,
                                timeout=timeout, check=False)
        if result.returncode:
            raise RuntimeError(f"rabbitmq.sh {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    def ctl(self, node, *args):
        """Run rabbitmqctl on `node`; return what it printed."""
        return self.script("ctl", str(node.number), *args)

    def connections(self, via):
        """Return `{connection name: the node it is connected to}`, as `via` sees the cluster's connections."""
        listed = json.loads(self.ctl(via, "list_connections", "port", "client_properties", "--formatter", "json"))
        by_port = {node.port: node for node in self.nodes}
        names = {}
        for connection in listed:
            properties = {name: value for name, _type, value in connection["client_properties"]}
            names.setdefault(properties.get("connection_name"), []).append(by_port[connection["port"]])
        return names

    def pid(self, node):
        """Return the pid of the node's Erlang VM."""
        with open(os.path.join(self.base_dir, node.name.split("@")[0], "rabbitmq.pid"), encoding="ascii") as pidfile:
            return int(pidfile.read())

    def kill(self, node):
        """SIGKILL the node's Erlang VM, and wait until it is gone."""
        pid = self.pid(node)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            time.sleep(0.05)

    @contextlib.contextmanager
    def only(self, node):
        """Have every other node refuse new connections in the block: clients given every node connect to `node`."""
        others = [other for other in self.nodes if other != node]
        for other in others:
            self.ctl(other, "suspend_listeners")
        try:
            yield
        finally:
            for other in others:
                self.ctl(other, "resume_listeners")


def _logs(base_dir, last=3000):
    """Return the end of every node's log, for a start that failed."""
    tails = []
    for directory, _folders, files in os.walk(base_dir):
        for name in sorted(files):
            if name.endswith(".log"):
                with open(os.path.join(directory, name), encoding="utf-8", errors="replace") as log:
                    tails.append(f"--- {name}\n{log.read()[-last:]}")
    return "\n".join(tails)


@contextlib.contextmanager
def clustered_rabbitmq(base_dir):
    """Start three clustered nodes in `base_dir`; yield the cluster; always stop them and remove the dir."""
    amqp_ports, dist_ports = free_ports(NODES), free_ports(NODES)
    names = [f"rabbit-test-{os.getpid()}-{number}@localhost" for number in range(1, NODES + 1)]
    environment = os.environ | {
        "RABBITMQ_HA_DIR": str(base_dir),
        "RABBITMQ_HA_NODES": " ".join(names),
        "RABBITMQ_HA_PORTS": " ".join(map(str, amqp_ports)),
        "RABBITMQ_HA_DIST_PORTS": " ".join(map(str, dist_ports)),
    }
    nodes = [Node(number, name, port) for number, (name, port) in enumerate(zip(names, amqp_ports, strict=True), 1)]
    cluster = Cluster(str(base_dir), environment, nodes, {})
    try:
        try:
            printed = cluster.script("start")
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n{_logs(base_dir)}") from exc
        cluster.settings = dict(line.split("=", 1) for line in printed.splitlines() if "=" in line)
        yield cluster
    finally:
        try:
            cluster.script("stop")
        finally:
            shutil.rmtree(base_dir, ignore_errors=True)
