"""Who is acting right now: the source of a change, its correlation id, the message being handled.

The HTTP layer sets them per request, the consumers per message; the audit trail,
the logs and the outbox read them from here.
"""

import contextvars
from contextlib import contextmanager

_source = contextvars.ContextVar("source", default="api")
_correlation_id = contextvars.ContextVar("correlation_id", default=None)
_message = contextvars.ContextVar("message", default=None)


def current_source():
    """Return where the current change comes from (`api`, `consumer`, `sweeper`…)."""
    return _source.get()


def current_correlation_id():
    """Return the correlation id of the request or message being handled, if any."""
    return _correlation_id.get()


def current_message():
    """Return what the consumer said of the message being handled (a JSON-ready dict), if any.

    The domain never reads it: the outbox keeps it beside each event recorded while the
    message is handled, so that the messaging side can answer in the message's own terms.
    """
    return _message.get()


def set_origin(*, source, correlation_id=None):
    """Set the source and correlation id for the rest of this request or message."""
    _source.set(source)
    _correlation_id.set(correlation_id)


@contextmanager
def origin(*, source, correlation_id=None, message=None):
    """Run a block with the given source, correlation id and message, then restore the previous ones."""
    tokens = [(_source, _source.set(source)), (_correlation_id, _correlation_id.set(correlation_id)),
              (_message, _message.set(message))]
    try:
        yield
    finally:
        for variable, token in reversed(tokens):
            variable.reset(token)
