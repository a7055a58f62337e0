"""Links between the docs reach a file and, when they name one, a heading; the project layout exists."""

import re

import pytest

from tests.docs.markdown_text import DOCS, ROOT, anchors, blocks, documents, prose_lines

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
EXTERNAL = re.compile(r"^([a-z]+:|<)")


def relative_links(path):
    """Yield every relative link target of a Markdown file, outside code."""
    for line, _ in prose_lines(path.read_text()):
        for target in LINK.findall(re.sub(r"`[^`]*`", "``", line)):
            if not EXTERNAL.match(target):
                yield target


def broken(path, target):
    """Tell what is wrong with a link of `path` to `target`, or None when it reaches what it names."""
    file, _, anchor = target.partition("#")
    destination = (path.parent / file).resolve() if file else path
    if not destination.exists():
        return f"{target}: no such file"
    if anchor and destination.suffix == ".md" and anchor not in anchors(destination.read_text()):
        return f"{target}: no such heading in {destination.relative_to(ROOT)}"
    return None


@pytest.mark.parametrize("path", documents(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_reaches_its_file_and_heading(path):
    assert [problem for target in relative_links(path) if (problem := broken(path, target))] == []


def layout_paths():
    """Return every path of the project layout in docs/development.md, nested by indentation."""
    (layout,) = [block for block in blocks((DOCS / "development.md").read_text()) if block.heading == "Project layout"]
    paths, parents = [], []
    for line in layout.text.splitlines():
        name = line.split()[0]
        depth = (len(line) - len(line.lstrip())) // 2
        parents = parents[:depth]
        if "*" not in name:
            paths.append("".join(parents) + name)
        parents.append(name if name.endswith("/") else "")
    return paths


def test_every_path_of_the_project_layout_exists():
    paths = layout_paths()
    assert len(paths) > 50
    assert [path for path in paths if not (ROOT / path).exists()] == []
