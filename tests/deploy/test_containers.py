"""The container image and the compose stack, checked against the code without a Docker engine.

The Dockerfile and docker-compose.yml are parsed and compared with what the code reads and
runs; hadolint and shellcheck lint them; the image's entry point runs for real here (the
migration against the local PostgreSQL, gunicorn answering the image's HEALTHCHECK, the
sweeper answering the compose health check), with the environment compose would give it.
"""

import ast
import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import config
from app.commands import drop_database
from app.messaging.contracts import CONSUMED

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "deploy" / "docker-entrypoint.sh"
TOOLS_PATH = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
# What `docker compose` would find in the shell or in .env: only the required variable.
SHELL = {"API_TOKENS": "deploy-test-token"}
LOOPBACK = ("127.0.0.1", "localhost", "::1")

# Variables read from outside the project's own code.
TOOL_VARIABLES = {"PATH", "FLASK_APP", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PIP_DISABLE_PIP_VERSION_CHECK"}
# Variables config.py or gunicorn.conf.py reads that a container may leave unset, and why the default is right.
CONTAINER_DEFAULTS = {
    "ConnectionStrings__DefaultConnection": "DATABASE_URL is set and wins",
    "ConnectionStrings__Redis": "REDIS_URL is set and wins",
    "REDIS_SENTINELS": "unset: compose runs one Redis, not Sentinel (deploy/ha/redis.sh does, on one machine)",
    "REDIS_SENTINEL_MASTER": "unset: read only with REDIS_SENTINELS",
    "RabbitMq__Host": "RABBITMQ_URL is set and wins",
    "RabbitMq__Username": "RABBITMQ_URL is set and wins",
    "RabbitMq__Password": "RABBITMQ_URL is set and wins",
    "RabbitMq__VirtualHost": "RABBITMQ_URL is set and wins",
    "DB_POOL_SIZE": "production's default: 10 connections per process",
    "METRICS_PORT": "0 for the API, which serves /metrics on PORT (the message processes set it)",
    "METRICS_PORT_SLOT": "unset: only make run's supervisord gives it; a container sets METRICS_PORT",
    "METRICS_PROCESS_NUM": "unset: only make run's supervisord gives it; a container sets METRICS_PORT",
    "ALLOW_UNAUTHENTICATED": "false: production does not start without API_TOKENS",
    "PROXY_FIX_X_FOR": "0: compose puts no proxy in front of the API",
    "RATELIMIT_ENABLED": "on",
    "CREATE_RATE_LIMIT": "the documented default",
    "BULK_RATE_LIMIT": "the documented default",
    "GUNICORN_PRELOAD": "true: the app is imported once, before the workers fork",
}


# --- reading the files ------------------------------------------------------------------------

def read(path):
    return (ROOT / path).read_text()


INTERPOLATION = re.compile(r"\$(?:\$|\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|(?P<bare>\w+))")


def interpolate(value, env):
    """Substitute compose's ${NAME}, ${NAME:-default}, ${NAME:?error} and $$ in every string of `value`."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match):
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match["name"] or match["bare"], match["op"] or "", match["arg"]
        current = env.get(name)
        missing = current is None or (op.startswith(":") and current == "")
        if missing and op.endswith("?"):
            raise ValueError(f"required variable {name}: {arg}")
        return arg if missing and op.endswith("-") else current or ""

    return INTERPOLATION.sub(substitute, value)


def load_compose(env=None):
    return interpolate(yaml.safe_load(read("docker-compose.yml")), SHELL if env is None else env)


def env_file(path):
    """The variables a compose env_file sets (commented lines set nothing)."""
    variables = {}
    for line in map(str.strip, read(path).splitlines()):
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            variables[name.strip()] = value.strip().strip("'\"")
    return variables


def container_env(service):
    """The environment compose gives a service: its env_file(s), then its `environment`."""
    env_files = service.get("env_file", [])
    variables = {}
    for path in [env_files] if isinstance(env_files, str) else env_files:
        variables |= env_file(path)
    environment = service.get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return variables | {name: str(value) for name, value in environment.items()}


def dockerfile_stages():
    """The Dockerfile's stages: [{"base", "name", "instructions": [(KEYWORD, arguments)]}], ARGs resolved in FROM."""
    lines, current = [], ""
    for raw in read("Dockerfile").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        lines.append(current + line)
        current = ""
    args, stages = {}, []
    for line in lines:
        keyword, _, rest = line.partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "ARG" and not stages:
            name, _, default = rest.partition("=")
            args[name] = default
        elif keyword == "FROM":
            base, *alias = interpolate(rest, args).split()
            stages.append({"base": base, "name": alias[-1] if alias else None, "instructions": []})
        else:
            stages[-1]["instructions"].append((keyword, rest))
    return stages


def arguments(rest):
    """An instruction's arguments: the JSON (exec) form as a list, else split like a shell."""
    return json.loads(rest) if rest.startswith("[") else shlex.split(rest)


def instructions(stage, keyword):
    return [rest for name, rest in stage["instructions"] if name == keyword]


def build_context_sources(stages):
    """What the stages' COPY instructions take from the build context (not from another stage)."""
    copies = [arguments(copy) for stage in stages for copy in instructions(stage, "COPY")]
    return {source for copy in copies if not copy[0].startswith("--from") for source in copy[:-1]}


def healthcheck_command(stage):
    (healthcheck,) = instructions(stage, "HEALTHCHECK")
    return json.loads(healthcheck.split(" CMD ", 1)[1])


def environment_reads(path):
    """The environment variables a Python file reads: _env*(), os.environ.get/[]/in, os.getenv."""
    names = set()
    for node in ast.walk(ast.parse((ROOT / path).read_text())):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = getattr(func, "id", None) or getattr(func, "attr", "")
            if called.startswith("_env") or called == "getenv" or (called == "get" and _is_environ(func.value)):
                names.add(node.args[0].value)
        elif isinstance(node, ast.Subscript) and _is_environ(node.value) and isinstance(node.slice, ast.Constant):
            names.add(node.slice.value)
        elif isinstance(node, ast.Compare) and any(_is_environ(operand) for operand in node.comparators):
            names.add(node.left.value)
    return names


def _is_environ(node):
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def python_files():
    files = ["config.py", "wsgi.py", "deploy/gunicorn.conf.py", "migrations/env.py"]
    packages = [path for folder in ("app", "consumers") for path in (ROOT / folder).rglob("*.py")]
    return files + [str(path.relative_to(ROOT)) for path in packages]


def variables_read():
    """Every variable the code, the Makefile or the entry point reads."""
    names = set().union(*(environment_reads(path) for path in python_files()))
    names |= set(re.findall(r"\$\(([A-Z_][A-Z0-9_]*)\)", read("Makefile")))
    names |= set(re.findall(r"^(?:export\s+)?([A-Z_][A-Z0-9_]*)\s*[?:]?=", read("Makefile"), re.MULTILINE))
    return names | set(re.findall(r"\$\{?([A-Z_][A-Z0-9_]*)", ENTRYPOINT.read_text()))


def ports(service):
    """{container port: (host address, host port)} of a service's published ports."""
    published = {}
    for mapping in service.get("ports", []):
        *host, container = str(mapping).split(":")
        published[container.split("/")[0]] = (host[0] if len(host) == 2 else "0.0.0.0", host[-1])
    return published


def in_build_context(path, patterns):
    """Whether .dockerignore lets `path` into the build context: the last pattern matching it or a parent wins."""
    parts = path.split("/")
    candidates = ["/".join(parts[:count]) for count in range(1, len(parts) + 1)]
    included = True
    for negated, pattern in patterns:
        if any(pattern.fullmatch(candidate) for candidate in candidates):
            included = negated
    return included


def dockerignore_patterns():
    patterns = []
    for line in map(str.strip, read(".dockerignore").splitlines()):
        if line and not line.startswith("#"):
            glob = line.lstrip("!").strip("/")
            regex = re.escape(glob).replace(r"\*\*/", "(?:.*/)?").replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
            regex = regex.replace(r"\[", "[").replace(r"\]", "]")
            patterns.append((line.startswith("!"), re.compile(regex)))
    return patterns


COMPOSE = load_compose()
SERVICES = COMPOSE["services"]
APP_IMAGE = SERVICES["api"]["image"]
APP_SERVICES = sorted(name for name, service in SERVICES.items() if service.get("image") == APP_IMAGE)
STAGES = dockerfile_stages()
RUNTIME = STAGES[-1]


@pytest.fixture(autouse=True)
def clean_tables():
    """These tests use none of the suite's tables (this replaces the suite's fixture of the same name)."""
    yield


# --- docker-compose.yml --------------------------------------------------------------------------

def test_compose_has_every_process_of_the_service():
    expected = {"postgres", "redis", "rabbitmq", "migrate", "api", "relay", "sweeper"} | set(CONSUMED)
    assert expected <= set(SERVICES)
    assert set(APP_SERVICES) == expected - {"postgres", "redis", "rabbitmq"}


def test_infrastructure_services():
    postgres, redis, rabbitmq = SERVICES["postgres"], SERVICES["redis"], SERVICES["rabbitmq"]
    assert postgres["image"] == "postgres:15"
    assert ports(postgres)["5432"][1] == "5435"
    assert "pg_isready" in postgres["healthcheck"]["test"]
    assert redis["image"] == "redis:7"
    assert " ".join(redis["command"]).endswith("--appendonly yes")
    assert "redis-cli ping" in " ".join(redis["healthcheck"]["test"])
    assert rabbitmq["image"] == "rabbitmq:3-management"
    assert {"5672", "15672"} <= set(ports(rabbitmq))
    assert rabbitmq["healthcheck"]["test"] == ["CMD", "rabbitmq-diagnostics", "-q", "ping"]
    for service in (postgres, redis, rabbitmq):
        assert service["restart"] == "unless-stopped"


def test_data_lives_in_declared_volumes():
    mounts = {name: SERVICES[name]["volumes"][0].split(":") for name in ("postgres", "redis", "rabbitmq")}
    assert mounts["postgres"][1] == "/var/lib/postgresql/data"
    assert mounts["redis"][1] == "/data"
    assert mounts["rabbitmq"][1] == "/var/lib/rabbitmq"
    assert {volume for volume, _ in mounts.values()} <= set(COMPOSE["volumes"])


def test_migrate_runs_once_after_postgres():
    migrate = SERVICES["migrate"]
    assert migrate["command"] == ["migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}


def test_api_service():
    api = SERVICES["api"]
    assert ports(api)["8082"][1] == "8082"
    assert api["command"] == arguments(instructions(RUNTIME, "CMD")[0])
    assert api["healthcheck"]["test"] == ["CMD", *healthcheck_command(RUNTIME)]
    assert api["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert api["depends_on"]["redis"] == {"condition": "service_healthy"}
    assert api["depends_on"]["rabbitmq"] == {"condition": "service_healthy"}


@pytest.mark.parametrize("name", sorted(set(APP_SERVICES) - {"migrate"}))
def test_long_running_service(name):
    service = SERVICES[name]
    assert service["restart"] == "unless-stopped"
    assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert service["build"]["context"] == "."
    assert "container_name" not in service, "a fixed container name would prevent scaling"
    if name != "api":
        assert int(service["deploy"]["replicas"]) >= 1
        assert "METRICS_PORT" in " ".join(service["healthcheck"]["test"])
        assert container_env(service)["METRICS_PORT"].isdigit()


def test_no_service_gets_the_metrics_directory_of_the_api():
    # In a consumer it would switch prometheus_client to multiprocess mode; the entry point sets it for gunicorn.
    assert not [name for name in APP_SERVICES if "PROMETHEUS_MULTIPROC_DIR" in container_env(SERVICES[name])]


def test_replicas_follow_the_makefile_variables():
    scaled = load_compose(SHELL | {"CONSUMERS_PER_QUEUE": "3", "HOLD_CONSUMERS": "4", "RELAYS": "2"})["services"]
    assert {queue: scaled[queue]["deploy"]["replicas"] for queue in CONSUMED} == dict.fromkeys(CONSUMED, "3") | {
        "hold-tickets": "4"}
    assert scaled["relay"]["deploy"]["replicas"] == "2"
    assert load_compose(SHELL)["services"]["hold-tickets"]["deploy"]["replicas"] == "2"


def test_every_health_condition_waits_on_a_health_check():
    for name, service in SERVICES.items():
        for dependency, condition in service.get("depends_on", {}).items():
            if condition["condition"] == "service_healthy":
                healthcheck = SERVICES[dependency].get("healthcheck", {})
                assert healthcheck.get("test") and not healthcheck.get("disable"), (name, dependency)


def test_message_processes_are_the_consumers_module():
    commands = {name: SERVICES[name]["command"] for name in APP_SERVICES}
    processes = {command[3] for command in commands.values() if command[:3] == ["python", "-m", "consumers"]}
    assert processes == {*CONSUMED, "relay"}
    assert all(commands[queue] == ["python", "-m", "consumers", queue] for queue in CONSUMED)
    assert commands["sweeper"] == ["flask", "--app", "wsgi", "tickets", "sweep-holds"]
    assert (ROOT / "consumers" / "__main__.py").exists()


def test_api_tokens_must_be_given():
    with pytest.raises(ValueError, match="API_TOKENS"):
        load_compose({})
    assert container_env(SERVICES["api"])["API_TOKENS"] == SHELL["API_TOKENS"]


# --- the environment against what the code reads ----------------------------------------------

@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_variable_given_is_read(name):
    unread = set(container_env(SERVICES[name])) - variables_read()
    assert not unread, f"{name} sets variables nothing reads: {sorted(unread)}"


def test_every_variable_in_env_example_is_read():
    assert not set(env_file(".env.example")) - variables_read()


def test_container_defaults_are_still_read():
    assert set(CONTAINER_DEFAULTS) <= environment_reads("config.py") | environment_reads("deploy/gunicorn.conf.py")


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_setting_without_a_container_default_is_given(name):
    unset = environment_reads("config.py") - set(container_env(SERVICES[name])) - set(CONTAINER_DEFAULTS)
    if name == "api":
        unset |= environment_reads("deploy/gunicorn.conf.py") - set(container_env(SERVICES[name])) - set(
            CONTAINER_DEFAULTS)
        unset -= {"PROMETHEUS_MULTIPROC_DIR"}  # the entry point sets it for gunicorn
    assert not unset, (f"{name} leaves {sorted(unset)} to its default: set it in docker-compose.yml, "
                       "or say in CONTAINER_DEFAULTS why the default is right in a container")


def resolved_config(env):
    """Config as the service's container would build it (ProductionConfig checks its own settings)."""
    script = ("import json, config; c = config.config_for()(); "
              "print(json.dumps({k: getattr(c, k) for k in dir(c) if k.isupper()}, default=str))")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env | {"PATH": TOOLS_PATH},
                            capture_output=True, text=True, timeout=60, check=True)
    return json.loads(result.stdout)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_config_points_at_the_compose_services(name):
    settings = resolved_config(container_env(SERVICES[name]))
    assert settings["ENV_NAME"] == "production"
    assert settings["DEV_ENDPOINTS_ENABLED"] is False
    assert settings["API_TOKENS"] == [SHELL["API_TOKENS"]]
    assert not [key for key, value in settings.items() if any(host in str(value) for host in LOOPBACK)]
    database = make_url(settings["SQLALCHEMY_DATABASE_URI"])
    postgres_env = SERVICES["postgres"]["environment"]
    assert (database.host, str(database.port), database.username, database.password, database.database) == (
        "postgres", "5432", postgres_env["POSTGRES_USER"], postgres_env["POSTGRES_PASSWORD"],
        postgres_env["POSTGRES_DB"])
    assert settings["REDIS_URL"].startswith("redis://redis:6379/")
    assert settings["RABBITMQ_URL"].startswith("amqp://guest:guest@rabbitmq:5672/")


def test_gunicorn_binds_the_exposed_port():
    env = container_env(SERVICES["api"])
    script = ("import json, runpy; s = runpy.run_path('deploy/gunicorn.conf.py'); "
              "print(json.dumps([s['bind'], s['workers']]))")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env | {"PATH": TOOLS_PATH},
                            capture_output=True, text=True, timeout=60, check=True)
    bind, workers = json.loads(result.stdout)
    assert bind == "0.0.0.0:8082"
    assert instructions(RUNTIME, "EXPOSE") == ["8082"]
    assert workers == int(env["WEB_CONCURRENCY"])


# --- the Dockerfile -------------------------------------------------------------------------------

def test_multi_stage_build_on_a_pinned_slim_python():
    assert len(STAGES) >= 2
    for stage in STAGES:
        version = re.fullmatch(r"python:3\.11\.(\d+)-slim(?:-\w+)?", stage["base"])
        # redis-py needs asyncio.timeout as fixed in 3.11.3 (the lock leaves out async-timeout).
        assert version and int(version[1]) >= 3, stage["base"]


def test_builder_installs_the_runtime_requirements_only():
    builder = next(stage for stage in STAGES if stage["name"] == "builder")
    installs = [run for run in instructions(builder, "RUN") if "pip install" in run]
    assert installs and all("requirements.txt" in run for run in installs)
    assert "requirements-dev" not in read("Dockerfile")
    copies = [arguments(copy) for copy in instructions(RUNTIME, "COPY") if copy.startswith("--from=builder")]
    assert copies == [["--from=builder", "/opt/venv", "/opt/venv"]]


def test_runtime_runs_as_a_user_that_is_not_root():
    keywords = [keyword for keyword, _ in RUNTIME["instructions"]]
    users = instructions(RUNTIME, "USER")
    assert users and keywords.index("USER") < keywords.index("CMD")
    assert users[-1].split(":")[0] not in ("root", "0")


def test_runtime_environment():
    settings = dict(item.split("=", 1) for env in instructions(RUNTIME, "ENV") for item in shlex.split(env))
    assert settings["PYTHONDONTWRITEBYTECODE"] == "1"
    assert settings["PYTHONUNBUFFERED"] == "1"
    assert settings["PATH"].startswith("/opt/venv/bin:")
    assert "PROMETHEUS_MULTIPROC_DIR" not in settings, "it belongs to the API alone"
    assert not set(settings) - variables_read() - TOOL_VARIABLES


def test_runtime_copies_everything_the_processes_import():
    sources = build_context_sources([RUNTIME])
    imported = set()
    for path in python_files():
        for node in ast.walk(ast.parse(read(path))):
            if isinstance(node, ast.Import | ast.ImportFrom) and not getattr(node, "level", 0):
                modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module]
                imported |= {module.split(".")[0] for module in modules}
    local = {name for name in imported if (ROOT / name).is_dir()} | {
        f"{name}.py" for name in imported if (ROOT / f"{name}.py").exists()}
    commands = [SERVICES[name]["command"] for name in APP_SERVICES]
    run = {command[2].split(".")[0] for command in commands if command[:2] == ["python", "-m"]}
    assert run == {"consumers"}
    assert local | run | {"wsgi.py", "deploy", "migrations"} <= sources


def test_build_context_holds_what_is_copied_and_no_secrets():
    patterns = dockerignore_patterns()
    sources = build_context_sources(STAGES)
    assert "requirements.txt" in sources
    for source in sources:
        assert (ROOT / source).exists(), source
        files = [source] if (ROOT / source).is_file() else [
            str(path.relative_to(ROOT)) for path in (ROOT / source).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts]
        assert all(in_build_context(path, patterns) for path in files), source
    for kept_out in (".env", ".git/config", ".venv/bin/python", "tests/conftest.py", ".run/x", "app/__pycache__/x.pyc"):
        assert not in_build_context(kept_out, patterns), kept_out


def test_entrypoint_is_the_repository_script():
    (entrypoint,) = [arguments(rest) for rest in instructions(RUNTIME, "ENTRYPOINT")]
    (workdir,) = instructions(RUNTIME, "WORKDIR")
    assert entrypoint == [f"{workdir}/deploy/docker-entrypoint.sh"]
    assert os.access(ENTRYPOINT, os.X_OK)
    cmd = arguments(instructions(RUNTIME, "CMD")[0])
    assert cmd[:2] == ["gunicorn", "--config"] and (ROOT / cmd[2]).exists() and cmd[3] == "wsgi:app"
    assert "8082" in instructions(RUNTIME, "EXPOSE")


def lint(tool, *args):
    executable = shutil.which(tool, path=TOOLS_PATH)
    assert executable, f"{tool} is missing: pip install -r requirements-dev.txt"
    return subprocess.run([executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def test_hadolint_finds_nothing():
    result = lint("hadolint", "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_shellcheck_finds_nothing_in_the_entrypoint():
    result = lint("shellcheck", str(ENTRYPOINT.relative_to(ROOT)))
    assert result.returncode == 0, result.stdout + result.stderr


# --- the entry point, run here as the image would run it -------------------------------------------

def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def local_env(service, database_url, **overrides):
    """The service's compose environment, with PostgreSQL and Redis on this machine instead."""
    return container_env(SERVICES[service]) | {
        "PATH": TOOLS_PATH, "DATABASE_URL": database_url, "REDIS_URL": config.TestConfig.REDIS_URL, **overrides}


def entrypoint(command, env, **kwargs):
    return subprocess.Popen([str(ENTRYPOINT), *command], cwd=ROOT, env=env, text=True, **kwargs)


def answers(command, env, deadline_seconds):
    """Run a health-check command until it succeeds or the deadline passes; return whether it succeeded."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=30, check=False).returncode == 0:
            return True
        time.sleep(0.3)
    return False


@contextlib.contextmanager
def running(process):
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        finally:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def migrated_database():
    """A database created and upgraded by the image's `migrate` command."""
    url = make_url(config.TestConfig.SQLALCHEMY_DATABASE_URI).set(database=f"tickets_deploy_{os.getpid()}")
    url = url.render_as_string(hide_password=False)
    drop_database(url)
    try:
        process = entrypoint(["migrate"], local_env("migrate", url), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        output, _ = process.communicate(timeout=120)
        assert process.returncode == 0, output
        yield url, output
    finally:
        drop_database(url)


def test_migrate_creates_and_upgrades_the_database(migrated_database):
    url, output = migrated_database
    heads = ScriptDirectory(str(ROOT / "migrations")).get_heads()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.scalars(text("SELECT version_num FROM alembic_version")).all() == heads
    finally:
        engine.dispose()
    assert "created" in output and "migrate: database up to date" in output


def test_migrate_gives_up_after_its_attempts():
    env = local_env("migrate", "postgresql+psycopg2://postgres@127.0.0.1:9/tickets",
                    MIGRATE_ATTEMPTS="2", MIGRATE_RETRY_SECONDS="0")
    process = entrypoint(["migrate"], env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output, _ = process.communicate(timeout=120)
    assert process.returncode != 0
    assert "attempt 1 of 2 failed" in output and "failed 2 times, giving up" in output


def test_metrics_directory_is_set_for_gunicorn_alone(tmp_path):
    fake = tmp_path / "gunicorn"
    fake.write_text('#!/bin/sh\necho "dir=$PROMETHEUS_MULTIPROC_DIR"\n')
    fake.chmod(0o755)
    env = {"PATH": f"{tmp_path}{os.pathsep}{TOOLS_PATH}"}
    api = subprocess.run([str(ENTRYPOINT), "gunicorn"], env=env, capture_output=True, text=True, check=True)
    worker = subprocess.run([str(ENTRYPOINT), "sh", "-c", 'echo "dir=$PROMETHEUS_MULTIPROC_DIR"'],
                            env=env, capture_output=True, text=True, check=True)
    assert api.stdout.strip() == "dir=/tmp/prometheus"
    assert worker.stdout.strip() == "dir="


def test_api_answers_the_image_healthcheck(migrated_database, tmp_path):
    port = str(free_port())
    env = local_env("api", migrated_database[0], HOST="127.0.0.1", PORT=port, WEB_CONCURRENCY="2",
                    GUNICORN_ACCESS_LOG="", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    healthcheck = healthcheck_command(RUNTIME)
    with running(entrypoint(SERVICES["api"]["command"], env)):
        assert answers(healthcheck, env, deadline_seconds=30)
        assert answers([sys.executable, "-c", f"import urllib.request; urllib.request.urlopen("
                                              f"'http://127.0.0.1:{port}/metrics', timeout=4)"], env, 10)
        assert list((tmp_path / "metrics").glob("*.db")), "gunicorn's workers write their metrics there"
    assert not answers(healthcheck, env, deadline_seconds=1)


def test_sweeper_answers_the_compose_healthcheck(migrated_database):
    env = local_env("sweeper", migrated_database[0], METRICS_PORT=str(free_port()))
    healthcheck = SERVICES["sweeper"]["healthcheck"]["test"][1:]
    with running(entrypoint(SERVICES["sweeper"]["command"], env)) as process:
        assert answers(healthcheck, env, deadline_seconds=30)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
