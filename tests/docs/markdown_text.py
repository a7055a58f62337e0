"""Reading the repository's Markdown: headings, their anchors, fenced blocks, tables and links."""

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^(`{3,}|~{3,})(.*)$")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


@dataclass(frozen=True)
class Block:
    """A fenced code block: its info string, its text, and the heading it sits under."""

    info: str
    text: str
    heading: str


def documents():
    """Return the README and every Markdown file of docs/, each as a path."""
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def prose_lines(text):
    """Yield each line outside fenced code blocks, with the heading above it ('' before the first)."""
    heading, fence = "", None
    for line in text.splitlines():
        opening = FENCE.match(line.strip())
        if fence:
            if opening and line.strip().startswith(fence) and not opening.group(2).strip():
                fence = None
            continue
        if opening:
            fence = opening.group(1)
            continue
        match = HEADING.match(line)
        if match:
            heading = match.group(2)
        yield line, heading


def blocks(text):
    """Return the fenced code blocks of a Markdown text, in order."""
    found, heading, fence, info, lines = [], "", None, "", []
    for line in text.splitlines():
        stripped = line.strip()
        opening = FENCE.match(stripped)
        if fence is None:
            match = HEADING.match(line)
            if match:
                heading = match.group(2)
            elif opening:
                fence, info, lines = opening.group(1), opening.group(2).strip(), []
        elif opening and stripped.startswith(fence) and not opening.group(2).strip():
            found.append(Block(info, "\n".join(lines), heading))
            fence = None
        else:
            lines.append(line)
    return found


def slug(heading):
    """Return the anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"`|\*\*|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(text):
    """Return every anchor of a Markdown text's headings, numbered as GitHub numbers repeats."""
    seen, result = {}, set()
    for line, _ in prose_lines(text):
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return result


def table_rows(text):
    """Yield (heading, cells) for each body row of each table outside code blocks."""
    for line, heading in prose_lines(text):
        stripped = line.strip()
        if not stripped.startswith("|") or re.fullmatch(r"\|[\s:|-]+\|", stripped):
            continue
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", stripped.strip("|"))]
        yield heading, cells
