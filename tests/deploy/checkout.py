"""A second checkout of the service in a temporary directory, run with `make run` as a user runs it.

The tree links to this repository's files, except `deploy/` (a directory of its own, its files
linked, so that `%(here)s/..` in deploy/supervisord.conf is the temporary checkout) and `.run/`
(the checkout's own). `make run` and `make status` run there with this virtualenv.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from supervisor.options import ServerOptions

from config import TestConfig

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.prefix)
LEFT_OUT = {".run", ".git", "deploy"}
# Variables of an outer `make test` or of the test process that `make run` must not inherit.
NOT_INHERITED = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PROMETHEUS_MULTIPROC_DIR", "METRICS_PORT",
                 "METRICS_PORT_SLOT", "METRICS_PROCESS_NUM", "VENV_BIN"}
STOP_SECONDS = 45


def make_tree(path):
    """Lay out a checkout at `path` linking to this repository's files, with its own deploy/ and no .run/."""
    path.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in LEFT_OUT:
            (path / entry.name).symlink_to(entry)
    (path / "deploy").mkdir()
    for entry in (ROOT / "deploy").iterdir():
        (path / "deploy" / entry.name).symlink_to(entry)
    return path


def programs(checkout, **env):
    """{namespec: environment} of every process deploy/supervisord.conf defines, read by supervisor itself."""
    options = ServerOptions()
    options.environ_expansions = {f"ENV_{name}": value for name, value in env.items()}
    options.here = str(checkout / "deploy")
    (checkout / ".run").mkdir(exist_ok=True)
    options.read_config(str(checkout / "deploy" / "supervisord.conf"))
    groups = options.configroot.supervisord.process_group_configs
    return {namespec(group.name, process.name): process for group in groups for process in group.process_configs}


def namespec(group, name):
    return name if group == name else f"{group}:{name}"


def metrics_port(environment, base):
    """The metrics port config.py gives a process with this supervisord environment and METRICS_PORT_BASE."""
    settings = TestConfig()
    settings.METRICS_PORT_BASE = base
    settings.METRICS_PORT_SLOT = int(environment.get("METRICS_PORT_SLOT", 0))
    settings.METRICS_PROCESS_NUM = int(environment.get("METRICS_PROCESS_NUM", 0))
    settings.EXPLICIT_METRICS_PORT = 0
    return settings.METRICS_PORT


def descendants(pid):
    """The pids under `pid`, read from /proc (each thread lists the children it started)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
        for child in children:
            found += [child, *descendants(child)]
    return found


def listening_ports(pid):
    """The TCP ports process `pid` listens on."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").glob("*"):
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("tcp", "tcp6"):
        for row in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = row.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


class Checkout:
    """One checkout: `make run` in the background, `make status`, and a stop that leaves nothing behind."""

    def __init__(self, path, env):
        self.path = make_tree(path)
        self.env = {name: value for name, value in os.environ.items() if name not in NOT_INHERITED} | env
        self.log_path = path.parent / f"{path.name}.log"
        self.make = None
        self.groups = set()

    def make_command(self, *args):
        # -o: the virtualenv is this one, already installed; never reinstall it from here.
        return [shutil.which("make"), "--no-print-directory", f"VENV={VENV}", "-o", f"{VENV}/bin/.installed", *args]

    def start(self):
        """Run `make run` (migrate, then supervisord in the foreground) in a session of its own."""
        with open(self.log_path, "wb") as log:
            self.make = subprocess.Popen(self.make_command("run"), cwd=self.path, env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def status(self):
        """Run `make status`: its exit code and {namespec: (state, pid or None)}."""
        result = subprocess.run(self.make_command("-s", "status"), cwd=self.path, env=self.env,
                                capture_output=True, text=True, timeout=30, check=False)
        states = {}
        for line in result.stdout.splitlines():
            fields = line.replace(",", " ").split()
            if len(fields) >= 2 and fields[1].isupper():
                states[fields[0]] = (fields[1], int(fields[3]) if fields[2:3] == ["pid"] else None)
        return result.returncode, states, result.stdout

    def wait_for(self, done, seconds):
        """Poll `make status` until `done(code, states)` holds; return the last (code, states, output)."""
        deadline = time.monotonic() + seconds
        while True:
            code, states, output = self.status()
            if done(code, states):
                return code, states, output
            assert self.make.poll() is None, f"make run ended with {self.make.returncode}:\n{self.log()}"
            assert time.monotonic() < deadline, f"gave up waiting; make status said:\n{output}\n{self.log()}"
            time.sleep(0.5)

    def log(self, last=6000):
        return self.log_path.read_text(errors="replace")[-last:]

    def terminate(self):
        """SIGTERM supervisord, which stops every program; note the process groups to kill if it does not."""
        if self.make is None:
            return
        for pid in [self.make.pid, *descendants(self.make.pid)]:
            try:
                self.groups.add(os.getpgid(pid))
            except ProcessLookupError:
                continue
        for pid in descendants(self.make.pid)[:1]:  # make's one child: supervisord (the recipe execs it)
            os.kill(pid, signal.SIGTERM)

    def wait_stopped(self):
        """Wait for `make run` to end, then SIGKILL every process group it had."""
        if self.make is None:
            return
        try:
            self.make.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            pass
        finally:
            for group in self.groups:
                try:
                    os.killpg(group, signal.SIGKILL)
                except ProcessLookupError:
                    continue
            self.make.wait(timeout=10)
