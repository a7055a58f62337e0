"""`make run` under supervisord: metrics ports per checkout, start limits, and `make status`.

deploy/supervisord.conf is read by supervisor's own parser and checked against config.py's port
layout; then two checkouts run `make run` side by side for real (other PORT, other
METRICS_PORT_BASE, one database and one RabbitMQ vhost), and a process that cannot start ends
FATAL, which `make status` reports with a non-zero exit.
"""

import os
import random
import socket
import subprocess
import sys
from contextlib import ExitStack

import pika
import pytest
import requests

from app.messaging.contracts import CONSUMED
from tests.deploy.checkout import ROOT, Checkout, listening_ports, make_tree, metrics_port, programs
from tests.messaging.broker import temporary_vhost

# The most a message process may take to fail at start when a whole run starts at once on two cores,
# and gunicorn's bind attempts on a taken port (5, a second apart) after it has loaded the app.
SLOWEST_FAILING_START_SECONDS = {"api": 12, "other": 8}
PER_PROGRAM = 100


@pytest.fixture(autouse=True)
def clean_tables():
    """Nothing to empty for the pure tests (this replaces the suite's fixture of the same name)."""
    yield


def conf_programs(tmp_path, per_program=1):
    env = {"VENV_BIN": "/venv/bin", "CONSUMERS_PER_QUEUE": str(per_program),
           "HOLD_CONSUMERS": str(per_program), "RELAYS": str(per_program)}
    return programs(make_tree(tmp_path / "checkout"), **env)


def layout(processes, base):
    """{namespec: metrics port} of every message process for METRICS_PORT_BASE `base`."""
    return {name: metrics_port(process.environment, base) for name, process in processes.items() if name != "api"}


# --- the configuration, read by supervisor ------------------------------------------------------

def test_every_process_of_the_service_is_a_program(tmp_path):
    groups = {name.split(":")[0] for name in conf_programs(tmp_path)}
    assert groups == {"api", *CONSUMED, "relay", "sweeper"}


def test_every_program_gives_up_after_a_bounded_number_of_quick_exits(tmp_path):
    for name, process in conf_programs(tmp_path).items():
        slowest = SLOWEST_FAILING_START_SECONDS["api" if name == "api" else "other"]
        assert process.startsecs > slowest, f"{name}: a start that fails after {slowest}s would count as started"
        assert 1 <= process.startretries <= 5, name
        assert process.autorestart, name  # a crash after a good start is still restarted


def test_metrics_ports_never_collide_for_two_bases_and_a_hundred_processes(tmp_path):
    processes = conf_programs(tmp_path, per_program=PER_PROGRAM)
    first, second = layout(processes, 9100), layout(processes, 10_100)
    ports = [*first.values(), *second.values()]
    assert len(first) == len(CONSUMED) * PER_PROGRAM + PER_PROGRAM + 1
    assert len(set(ports)) == len(ports)
    assert all(9200 <= port < 9100 + 1000 for port in first.values())
    assert all(10_200 <= port < 10_100 + 1000 for port in second.values())
    assert first["hold-tickets:hold-tickets-0"] == 9300 and first["relay:relay-99"] == 9699


def test_metrics_port_layout_refuses_what_would_collide(tmp_path):
    process = conf_programs(tmp_path)["relay:relay-0"]
    with pytest.raises(ValueError, match="METRICS_PROCESS_NUM"):
        metrics_port(process.environment | {"METRICS_PROCESS_NUM": "100"}, 9100)
    with pytest.raises(ValueError, match="METRICS_PORT_BASE"):
        metrics_port(process.environment, 65_535 - 998)
    assert metrics_port(process.environment, 65_535 - 999) == 65_535 - 999 + 500


def test_metrics_port_comes_from_the_slot_under_supervisord_else_from_metrics_port():
    env = {name: value for name, value in os.environ.items() if not name.startswith("METRICS_")}
    script = "import config; print(config.Config().METRICS_PORT)"

    def port(**variables):
        result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env | variables,
                                capture_output=True, text=True, check=True, timeout=60)
        return int(result.stdout)

    assert port(METRICS_PORT="9999") == 9999
    assert port() == 0
    # Under supervisord the slot wins: a METRICS_PORT exported to `make run` would give every process one port.
    assert port(METRICS_PORT="9999", METRICS_PORT_BASE="20000", METRICS_PORT_SLOT="2", METRICS_PROCESS_NUM="7") == 20207


def test_each_run_keeps_its_files_in_its_own_checkout(tmp_path):
    checkout = make_tree(tmp_path / "checkout")
    processes = programs(checkout, VENV_BIN="/venv/bin", CONSUMERS_PER_QUEUE="1", HOLD_CONSUMERS="1", RELAYS="1")
    run = os.path.realpath(checkout / ".run")
    assert os.path.realpath(processes["api"].environment["PROMETHEUS_MULTIPROC_DIR"]) == f"{run}/prometheus"
    assert not [name for name, p in processes.items() if name != "api" and "PROMETHEUS_MULTIPROC_DIR" in p.environment]
    assert {os.path.realpath(p.directory) for p in processes.values()} == {os.path.realpath(checkout)}
    conf = (checkout / "deploy" / "supervisord.conf").read_text()
    assert conf.count("%(here)s/../.run/supervisor.sock") == 2 and "%(here)s/../.run/supervisord.pid" in conf


# --- two `make run`s on one machine ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def amqp_url():
    """A RabbitMQ vhost of this module alone, deleted at the end."""
    with temporary_vhost(f"tickets-supervisor-{os.getpid()}") as url:
        yield url


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_metrics_base(taken=()):
    """A METRICS_PORT_BASE whose ports for one process per program are free on this machine."""
    for _ in range(50):
        base = random.randrange(20_000, 60_000, 1000)
        ports = [base + 100 * slot for slot in range(1, 10)]
        if base not in taken and all(bindable(port) for port in ports):
            return base
    raise AssertionError("no free block of metrics ports")


def bindable(port):
    with socket.socket() as sock:
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
        return True


@pytest.fixture
def checkouts(app, database_url, amqp_url, tmp_path):
    """Start checkouts with `make run` on this run's database and the module's vhost; stop them all after."""
    started = []

    def start(name, base):
        env = {"APP_ENV": "development", "DATABASE_URL": database_url, "RABBITMQ_URL": amqp_url,
               "HOST": "127.0.0.1", "PORT": str(free_port()), "METRICS_PORT_BASE": str(base),
               "CONSUMERS_PER_QUEUE": "1", "HOLD_CONSUMERS": "1", "RELAYS": "1", "WEB_CONCURRENCY": "1",
               "GUNICORN_ACCESS_LOG": "", "LOG_LEVEL": "WARNING"}
        checkout = Checkout(tmp_path / name, env)
        started.append(checkout)
        return checkout.start()

    try:
        yield start
    finally:
        with ExitStack() as stack:  # every checkout is stopped, even if stopping one fails
            for checkout in started:
                stack.callback(checkout.wait_stopped)
            for checkout in started:
                stack.callback(checkout.terminate)


def all_running(code, states):
    return code == 0 and len(states) == 8


def consumer_counts(amqp_url):
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        return {queue: channel.queue_declare(queue, passive=True).method.consumer_count for queue in CONSUMED}
    finally:
        connection.close()


@pytest.mark.slow
def test_two_checkouts_run_side_by_side(checkouts, amqp_url, tmp_path):
    first_base = free_metrics_base()
    first = checkouts("first", first_base)
    second = checkouts("second", free_metrics_base(taken={first_base}))
    processes = programs(tmp_path / "first", VENV_BIN="/venv/bin", CONSUMERS_PER_QUEUE="1", HOLD_CONSUMERS="1",
                         RELAYS="1")
    served = set()
    for checkout in (first, second):
        _, states, output = checkout.wait_for(all_running, seconds=60)
        assert {state for state, _ in states.values()} == {"RUNNING"}, output
        assert set(states) == set(processes)
        ports = layout(processes, int(checkout.env["METRICS_PORT_BASE"])) | {"api": int(checkout.env["PORT"])}
        for name, (_, pid) in states.items():
            assert listening_ports(pid) == {ports[name]}, f"{name} (pid {pid})"
            answer = requests.get(f"http://127.0.0.1:{ports[name]}/metrics", timeout=5)
            assert answer.status_code == 200, name
            assert "# TYPE ticket_outbox_backlog gauge" in answer.text, name
            served.add(ports[name])
        assert requests.get(f"http://127.0.0.1:{checkout.env['PORT']}/health/live", timeout=5).status_code == 200
        assert (checkout.path / ".run" / "supervisor.sock").is_socket()
        assert list((checkout.path / ".run" / "prometheus").glob("*.db")), "the API's metrics files"
    assert len(served) == 2 * len(processes)
    # One broker and one vhost: the two checkouts consume the same queues, as one deployment.
    assert consumer_counts(amqp_url) == dict.fromkeys(CONSUMED, 2)


@pytest.mark.slow
def test_a_process_that_cannot_start_ends_fatal_and_fails_make_status(checkouts, tmp_path):
    base = free_metrics_base()
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", base + 200))  # hold-tickets-0's metrics port (slot 2)
        taken.listen()
        checkout = checkouts("checkout", base)

        def settled(code, states):
            return len(states) == 8 and {state for state, _ in states.values()} <= {"RUNNING", "FATAL"}

        code, states, output = checkout.wait_for(settled, seconds=75)
    assert states.pop("hold-tickets:hold-tickets-0")[0] == "FATAL", output
    assert {state for state, _ in states.values()} == {"RUNNING"}, output
    assert code != 0, output
    assert "Address already in use" in checkout.log(last=200_000)
