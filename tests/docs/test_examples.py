"""docs/api.md's examples, sent in order to the API under gunicorn, answer as shown."""

import re

import pytest
import requests

from tests.docs.http_examples import REQUEST_LINE, Bindings, compare, examples, with_event
from tests.docs.markdown_text import DOCS

API = DOCS / "api.md"
EXAMPLE_EVENT = "7001"
TOKEN = "doc-token"
# What the examples must show at least: (method, path) of each, as a regular expression.
COVERED = {
    "create one ticket": ("POST", r"/api/Ticket/"),
    "create several": ("POST", r"/api/ticket"),
    "bulk creation": ("POST", r"/api/Ticket/bulk"),
    "get one": ("GET", r"/api/Ticket/<\w+>"),
    "a page of a list": ("GET", r"/api/Ticket/\?.*page_size=.*"),
    "a status change": ("PATCH", r"/api/Ticket/<\w+>/status"),
    "a history": ("GET", r"/api/Ticket/<\w+>/history"),
    "a hold": ("POST", r"/api/Ticket/hold"),
    "a reservation": ("POST", r"/api/Ticket/reserve"),
    "a release": ("POST", r"/api/Ticket/release"),
    "a summary": ("GET", r"/api/Ticket/event/\d+/summary"),
    "a deletion": ("DELETE", r"/api/Ticket/<\w+>"),
}


def test_every_example_shows_its_answer():
    assert len(examples(API.read_text())) >= len(COVERED)


@pytest.mark.parametrize("what", COVERED)
def test_the_examples_cover_the_api(what):
    method, path = COVERED[what]
    lines = [REQUEST_LINE.match(example.request.first_line).groups() for example in examples(API.read_text())]
    assert any(sent == method and re.fullmatch(path, target) for sent, target in lines)


@pytest.mark.parametrize("code", [201, 204, 401, 409, 412, 422])
def test_the_examples_show_the_answer(code):
    shown = [example.answer.first_line for example in examples(API.read_text())]
    assert any(line.startswith(f"HTTP/1.1 {code} ") for line in shown)


@pytest.fixture
def examples_server(monkeypatch):
    """Settings for the server of the examples: a token, the development endpoints, no rate limits."""
    for name, value in {"APP_ENV": "development", "API_TOKENS": TOKEN, "DEV_ENDPOINTS_ENABLED": "true",
                        "RATELIMIT_ENABLED": "false"}.items():
        monkeypatch.setenv(name, value)


def _send(base_url, request, bindings):
    method, target = REQUEST_LINE.match(request.first_line).groups()
    headers = {name: bindings.fill(value) for name, value in request.headers}
    body = bindings.fill(request.body).encode() if request.body else None
    return requests.request(method, base_url + bindings.fill(target), headers=headers, data=body, timeout=30)


def test_the_examples_answer_as_shown(examples_server, live_server, event_id):
    bindings = Bindings()
    for example in examples(API.read_text()):
        response = _send(live_server, with_event(example.request, EXAMPLE_EVENT, event_id), bindings)
        problems = compare(with_event(example.answer, EXAMPLE_EVENT, event_id), response, bindings)
        assert problems == [], f"{example.name} answered {response.status_code} {response.text[:500]}"
