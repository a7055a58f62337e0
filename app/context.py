"""Who is acting right now: the source of a change and its correlation id.

The HTTP layer sets them per request, the consumers per message; the audit trail,
the logs and outgoing messages read them from here.
"""

import contextvars
from contextlib import contextmanager

_source = contextvars.ContextVar("source", default="api")
_correlation_id = contextvars.ContextVar("correlation_id", default=None)


def current_source():
    """Return where the current change comes from (`api`, `consumer`, `sweeper`…)."""
    return _source.get()


def current_correlation_id():
    """Return the correlation id of the request or message being handled, if any."""
    return _correlation_id.get()


def set_origin(*, source, correlation_id=None):
    """Set the source and correlation id for the rest of this request or message."""
    _source.set(source)
    _correlation_id.set(correlation_id)


@contextmanager
def origin(*, source, correlation_id=None):
    """Run a block with the given source and correlation id, then restore the previous ones."""
    source_token = _source.set(source)
    correlation_token = _correlation_id.set(correlation_id)
    try:
        yield
    finally:
        _source.reset(source_token)
        _correlation_id.reset(correlation_token)
