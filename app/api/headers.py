"""Request headers the API honours: `Idempotency-Key`, `If-Match` and `X-Correlation-ID`."""

import uuid

from flask import request
from flask_smorest import abort

MAX_KEY_LENGTH = 255
MAX_CORRELATION_ID_LENGTH = 128


def _is_visible_ascii(value):
    """Tell whether `value` holds only printable ASCII (no control character, no NUL)."""
    return value.isascii() and value.isprintable()


def idempotency_key():
    """Return the request's `Idempotency-Key`, or None; refuse one that is empty, too long or not ASCII.

    The key is a structured-field string (printable ASCII), which also keeps out the NUL
    that PostgreSQL cannot store.
    """
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not _is_visible_ascii(key):
        message = f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters."
        abort(422, message=message, errors={"headers": {"Idempotency-Key": [message]}})
    return key


def expected_version():
    """Return the version named by `If-Match` (`"3"` or `W/"3"`), None when absent or `*`.

    A value that is not a version can never match, so it is answered with 412.
    """
    value = request.headers.get("If-Match")
    if value is None or value.strip() == "*":
        return None
    tag = value.strip().removeprefix("W/").strip('"')
    # isdigit() alone also accepts "²", which int() refuses.
    return int(tag) if tag.isascii() and tag.isdigit() else -1


def correlation_id():
    """Return the request's `X-Correlation-ID` (cut to 128 characters), or a new id.

    An id that is not printable ASCII is replaced rather than refused: it only traces the
    request, and it goes into the logs, the audit table and the messages as it is.
    """
    value = request.headers.get("X-Correlation-ID", "")[:MAX_CORRELATION_ID_LENGTH]
    return value if value and _is_visible_ascii(value) else str(uuid.uuid4())
