"""The message processes under test: `python -m consumers ...` run as subprocesses.

A `Fleet` keeps shared processes running from test to test (each one takes a couple of
seconds to start) and lets a test start processes of its own, with their own settings,
after stopping the shared ones of the same role.
"""

import itertools
import os
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QUEUES = ("event-published", "hold-tickets", "reserve-tickets", "release-tickets", "create-event-ticket")
READY_SECONDS = 30


class MessageProcess:
    """One `python -m consumers ROLE` process, its output in a log file."""

    def __init__(self, role, env, log_path, shared):
        self.role = role
        self.shared = shared
        self.log_path = log_path
        with open(log_path, "wb") as log:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "consumers", role], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def log(self, last=4000):
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            return log.read()[-last:]

    def terminate(self, timeout=10):
        """Send SIGTERM and return the exit code (None if it did not stop in time, then kill it)."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        """SIGKILL the process and wait for it to be gone."""
        if self.alive():
            self.popen.kill()
        self.popen.wait(timeout=10)


class Fleet:
    """Every message process of the run; `ready_count(role)` says how many of a role are serving."""

    def __init__(self, env, log_dir, ready_count):
        self.env = env
        self.log_dir = log_dir
        self.ready_count = ready_count
        self.processes = []
        self.numbers = itertools.count(1)

    def running(self, role):
        return [process for process in self.processes if process.role == role and process.alive()]

    def launch(self, role, *, shared=False, **env):
        """Start a process without waiting for it."""
        log_path = self.log_dir / f"{role}-{next(self.numbers)}.log"
        process = MessageProcess(role, self.env | {k: str(v) for k, v in env.items()}, log_path, shared)
        self.processes.append(process)
        return process

    def wait_ready(self, launched):
        """Wait until every running process of the launched ones' role serves.

        A consumer serves once its queue counts it as a consumer; a relay once it listens
        for the outbox's notifications.
        """
        role = launched[0].role
        deadline = time.monotonic() + READY_SECONDS
        while self.ready_count(role) < len(self.running(role)):
            dead = [process for process in launched if not process.alive()]
            if dead or time.monotonic() > deadline:
                logs = "\n".join(process.log() for process in launched)
                raise RuntimeError(f"{role} did not start:\n{logs}")
            time.sleep(0.05)

    def start(self, role, **env):
        """Start a process of the test's own and wait until it serves."""
        process = self.launch(role, **env)
        self.wait_ready([process])
        return process

    def ensure(self, *roles):
        """Have a shared process of each role running (and no other of that role)."""
        missing = [role for role in roles if not any(p.shared for p in self.running(role))]
        for role in roles:
            self.stop(role, shared=False)
        launched = [self.launch(role, shared=True) for role in missing]
        for process in launched:
            self.wait_ready([process])

    def stop(self, role=None, *, shared=None):
        """SIGTERM the running processes of `role` (every role if None), shared ones or not, and wait."""
        chosen = [
            p for p in self.processes
            if p.alive() and role in (None, p.role) and shared in (None, p.shared)
        ]
        for process in chosen:
            process.popen.send_signal(signal.SIGTERM)
        for process in chosen:
            process.terminate()
        self.processes = [p for p in self.processes if p.alive()]
