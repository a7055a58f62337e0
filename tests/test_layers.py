"""The layers import downwards only: the ticket domain knows nothing of HTTP or of messaging."""

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1] / "app"


def imported_modules(path):
    """Return every module a file imports, at any depth of its code."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return modules


@pytest.mark.parametrize("path", sorted((APP / "tickets").glob("*.py")), ids=lambda path: path.name)
def test_the_domain_imports_neither_messaging_nor_the_api(path):
    forbidden = [module for module in imported_modules(path)
                 if module.startswith(("app.messaging", "app.api"))]
    assert not forbidden, f"app/tickets/{path.name} imports {forbidden}"


def test_the_outbox_is_written_in_the_domains_words():
    assert not [module for module in imported_modules(APP / "outbox.py") if module.startswith("app.messaging")]
