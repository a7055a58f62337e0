"""URL handling: strict path converters and the case-insensitive `/api/Ticket` prefix."""

import uuid

from flask_smorest import abort
from werkzeug.routing import BaseConverter

from app.api.schemas import MAX_EVENT_ID


class TicketIdConverter(BaseConverter):
    """A ticket id in the path; anything that is not a UUID is a 422 that says so."""

    regex = r"[^/]+"

    def to_python(self, value):
        try:
            return uuid.UUID(value)
        except ValueError:
            abort(422, message=f"'{value}' is not a valid ticket id (a UUID).",
                  errors={"path": {"ticketId": ["Not a valid UUID."]}})

    def to_url(self, value):
        return str(value)


class EventIdConverter(BaseConverter):
    """An event id in the path: a positive 64-bit integer, or a 422 that says so."""

    regex = r"[^/]+"

    def to_python(self, value):
        # isdigit() alone also accepts "²" and "١", which int() refuses or reads as another number.
        if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_EVENT_ID:
            abort(422, message=f"'{value}' is not a valid event id (a positive 64-bit integer).",
                  errors={"path": {"eventId": [f"Must be an integer from 1 to {MAX_EVENT_ID}."]}})
        return int(value)


def ticket_id_schema(_converter):
    """Document a `ticket_id` path parameter."""
    return {"type": "string", "format": "uuid"}


def event_id_schema(_converter):
    """Document an `event_id` path parameter."""
    return {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_EVENT_ID, "example": 1}


class CaseInsensitivePrefix:
    """WSGI middleware routing `/api/ticket/...` (any case) to `/api/Ticket/...`.

    The original service matched routes case-insensitively and its own examples use
    lowercase paths; the bare prefix also reaches the collection without a redirect.
    """

    def __init__(self, wsgi_app, prefix):
        self.wsgi_app = wsgi_app
        self.prefix = prefix
        self.lowered = prefix.lower()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        head = path[: len(self.prefix)]
        if head.lower() == self.lowered and path[len(self.prefix) : len(self.prefix) + 1] in ("", "/"):
            rest = path[len(self.prefix) :] or "/"
            environ["PATH_INFO"] = self.prefix + rest
        return self.wsgi_app(environ, start_response)
