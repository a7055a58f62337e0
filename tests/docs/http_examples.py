"""The runnable HTTP examples of docs/api.md: parsed, sent, and their answers matched.

An example is a fenced `http` block holding a request (`METHOD /path HTTP/1.1`, headers, a
blank line, a body) followed by a fenced `http` block holding its answer (`HTTP/1.1 CODE
REASON`, the headers that matter, a blank line, the whole body). In an answer `<uuid>` is
any UUID and `<time>` any ISO 8601 timestamp; any other `<word>` binds to what it matches the
first time and must match the same value afterwards; in a request it is replaced by that value.
"""

import json
import re
from dataclasses import dataclass, field

from tests.docs.markdown_text import blocks

REQUEST_LINE = re.compile(r"^([A-Z]+) (\S+) HTTP/1\.1$")
STATUS_LINE = re.compile(r"^HTTP/1\.1 (\d{3}) (.+)$")
PLACEHOLDER = re.compile(r"<([a-z][a-z0-9]*)>")
PATTERNS = {
    "uuid": r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "time": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
}


@dataclass
class Message:
    """A request or an answer: its first line, its headers in order, and its body text."""

    first_line: str
    headers: list
    body: str


@dataclass
class Example:
    """A request and the answer shown for it, under the heading they sit in."""

    heading: str
    request: Message
    answer: Message

    @property
    def name(self):
        """Name the example by its heading and request line, for failure messages and test ids."""
        return f"{self.heading}: {self.request.first_line}"


def _message(text):
    head, _, body = text.strip("\n").partition("\n\n")
    first_line, *header_lines = head.splitlines()
    headers = [tuple(part.strip() for part in line.split(":", 1)) for line in header_lines]
    return Message(first_line.strip(), headers, body.strip())


def examples(markdown):
    """Return the examples of a Markdown text, in order.

    :raises ValueError: an `http` request block not followed by an `http` answer block.
    """
    found, pending = [], None
    for block in blocks(markdown):
        if block.info != "http":
            continue
        message = _message(block.text)
        if REQUEST_LINE.match(message.first_line):
            if pending:
                raise ValueError(f"no answer shown for {pending.first_line!r}")
            pending = message
        elif STATUS_LINE.match(message.first_line) and pending:
            found.append(Example(block.heading, pending, message))
            pending = None
        else:
            raise ValueError(f"an http block that is neither a request nor its answer: {message.first_line!r}")
    if pending:
        raise ValueError(f"no answer shown for {pending.first_line!r}")
    return found


@dataclass
class Bindings:
    """The values the placeholders of the examples stand for, found as the examples run."""

    values: dict = field(default_factory=dict)

    def fill(self, text):
        """Replace every bound placeholder of a request's text with its value.

        :raises KeyError: a placeholder that no earlier answer has shown.
        """
        return PLACEHOLDER.sub(lambda match: self.values[match.group(1)], text)

    def _pattern(self, template):
        parts, names, last = [], [], 0
        for match in PLACEHOLDER.finditer(template):
            parts.append(re.escape(template[last:match.start()]))
            name = match.group(1)
            if name in PATTERNS:
                parts.append(f"(?:{PATTERNS[name]})")
            elif name in self.values:
                parts.append(re.escape(self.values[name]))
            elif name in names:
                parts.append(f"(?P={name})")
            else:
                parts.append(f"(?P<{name}>.+?)")
                names.append(name)
            last = match.end()
        parts.append(re.escape(template[last:]))
        return re.compile("".join(parts), flags=re.DOTALL)

    def match_text(self, template, actual):
        """Tell whether `actual` matches a template; bind what its new placeholders matched."""
        found = self._pattern(template).fullmatch(actual)
        if found:
            self.values.update(found.groupdict())
        return bool(found)

    def match(self, expected, actual, where="body"):
        """Return the differences between a shown JSON value and the actual one ([] when they match)."""
        if isinstance(expected, dict) and isinstance(actual, dict):
            return self._match_objects(expected, actual, where)
        if isinstance(expected, list) and isinstance(actual, list):
            return self._match_arrays(expected, actual, where)
        if isinstance(expected, str) and isinstance(actual, str):
            return [] if self.match_text(expected, actual) else [f"{where}: {actual!r} does not match {expected!r}"]
        if expected != actual or type(expected) is not type(actual):
            return [f"{where}: {actual!r} where {expected!r} is shown"]
        return []

    def _match_objects(self, expected, actual, where):
        if expected.keys() != actual.keys():
            return [f"{where}: keys {sorted(actual)} where {sorted(expected)} are shown"]
        return [problem for key in expected for problem in self.match(expected[key], actual[key], f"{where}.{key}")]

    def _match_arrays(self, expected, actual, where):
        if len(expected) != len(actual):
            return [f"{where}: {len(actual)} items where {len(expected)} are shown"]
        return [problem for index, (shown, got) in enumerate(zip(expected, actual, strict=True))
                for problem in self.match(shown, got, f"{where}[{index}]")]


def _status_problems(answer, response):
    code, reason = STATUS_LINE.match(answer.first_line).groups()
    if (response.status_code, response.reason.upper()) != (int(code), reason.upper()):
        return [f"status {response.status_code} {response.reason} where {code} {reason} is shown"]
    return []


def _header_problems(answer, response, bindings):
    problems = []
    for name, shown in answer.headers:
        got = response.headers.get(name)
        if got is None:
            problems.append(f"no {name} header")
        elif shown.startswith("{"):  # a header whose value is JSON (X-Pagination): compared as JSON
            problems += bindings.match(json.loads(shown), json.loads(got), name)
        elif not bindings.match_text(shown, got):
            problems.append(f"{name}: {got!r} does not match {shown!r}")
    return problems


def _body_problems(answer, response, bindings):
    if not answer.body:
        return [f"a body where none is shown: {response.text[:200]!r}"] if response.content else []
    try:
        body = response.json()
    except ValueError:
        return [f"not JSON: {response.text[:200]!r}"]
    return bindings.match(json.loads(answer.body), body)


def compare(answer, response, bindings):
    """Return the differences between a shown answer and the response ([] when none); bind what it names."""
    return (_status_problems(answer, response) + _header_problems(answer, response, bindings)
            + _body_problems(answer, response, bindings))


def with_event(message, shown, event_id):
    """Return a request or an answer with the event id `shown` in it replaced by `event_id`."""
    def replaced(text):
        return re.sub(rf"\b{shown}\b", str(event_id), text)

    return Message(replaced(message.first_line), [(name, replaced(value)) for name, value in message.headers],
                   replaced(message.body))
