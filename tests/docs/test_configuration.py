"""docs/configuration.md against the code: every variable read has a row, every row is read.

Each table of docs/configuration.md sits under a heading that names, in backticks, the file
(or folder) that reads its variables. Pure: it parses files and starts nothing.
"""

import ast
import re

import pytest

from tests.docs.markdown_text import DOCS, ROOT, table_rows

CONFIGURATION = DOCS / "configuration.md"
ENV_CALLS = ("_env", "_env_int", "_env_bool")
PYTHON_READS = re.compile(
    r"""os\.environ\.get\(\s*["'](\w+)["']|os\.environ\[\s*["'](\w+)["']\]|["'](\w+)["']\s+in\s+os\.environ"""
)


def config_defaults():
    """Return {variable: its default literal, or None} for every `_env*("NAME", …)` call in config.py.

    The first call of a name wins: `Config`'s default comes before `ProductionConfig`'s.
    """
    found = {}
    for node in ast.walk(ast.parse((ROOT / "config.py").read_text())):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ENV_CALLS):
            continue
        name = node.args[0]
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            default = node.args[1] if len(node.args) > 1 else None
            value = default.value if isinstance(default, ast.Constant) else None
            found.setdefault((name.lineno, name.value), value)
    ordered = sorted(found.items())
    defaults = {}
    for (_, name), value in ordered:
        defaults.setdefault(name, value)
    return defaults


def read_by(source):
    """Return the environment variables that a file (or every file under a folder) reads."""
    path = ROOT / source
    if source == "config.py":
        return set(config_defaults())
    if path.is_dir():
        return set().union(*(read_by(str(file.relative_to(ROOT))) for file in path.rglob("*.py")))
    text = path.read_text()
    if path.name == "Makefile":
        return set(re.findall(r"^(\w+)\s*\?=", text, flags=re.MULTILINE))
    if path.suffix == ".sh":
        return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))
    return {next(group for group in match if group) for match in PYTHON_READS.findall(text)}


def source_of(heading):
    """Return the file or folder a table's heading names in backticks, or None."""
    for candidate in re.findall(r"`([^`]+)`", heading):
        if (ROOT / candidate).exists():
            return candidate
    return None


def documented():
    """Return [(source, variable, default cell or None)] for every row of docs/configuration.md's tables."""
    rows, columns = [], []
    for heading, cells in table_rows(CONFIGURATION.read_text()):
        name = re.match(r"`(\w+)`", cells[0])
        if not name:
            columns = cells
            continue
        default = cells[1] if columns[1:2] == ["Default"] else None
        rows.append((source_of(heading), name.group(1), default))
    return rows


def env_example_keys():
    """Return every variable of .env.example, set or left commented."""
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Za-z_]\w*)=", text, flags=re.MULTILINE))


# Every file the configuration is read from; the tables must cover all they read.
SOURCES = ("config.py", "deploy/gunicorn.conf.py", "Makefile", "deploy/docker-entrypoint.sh", "bench/harness.py")


def test_every_table_names_the_file_that_reads_it():
    assert documented(), "docs/configuration.md has no table of variables"
    assert [name for source, name, _ in documented() if source is None] == []


@pytest.mark.parametrize("source", [*SOURCES, "app/"])
def test_every_variable_read_has_a_row(source):
    names = {name for _, name, _ in documented()}
    read = read_by(source)
    if source == "app/":
        read = {name for name in read if name.startswith("OTEL_")}
    assert read, f"found no variable read by {source}"
    assert sorted(read - names) == [], f"read by {source}, missing from docs/configuration.md"


def test_every_key_of_env_example_has_a_row():
    names = {name for _, name, _ in documented()}
    assert sorted(env_example_keys() - names) == []


def test_every_row_names_a_variable_its_source_reads():
    unknown = [(source, name) for source, name, _ in documented() if name not in read_by(source)]
    assert unknown == []


def test_no_variable_has_two_rows():
    names = [name for _, name, _ in documented()]
    assert sorted({name for name in names if names.count(name) > 1}) == []


def _same(shown, default):
    try:
        return float(shown) == float(default)
    except ValueError:
        return shown.lower() == str(default).lower()


def test_the_defaults_shown_are_those_of_config_py():
    defaults = config_defaults()
    wrong = []
    for source, name, cell in documented():
        shown = re.match(r"`([^`]*)`", cell or "")
        default = defaults.get(name)
        if source == "config.py" and shown and default is not None and not _same(shown.group(1), default):
            wrong.append((name, shown.group(1), default))
    assert wrong == []
