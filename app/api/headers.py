"""Request headers the API honours: `Idempotency-Key` and `If-Match`."""

from flask import request
from flask_smorest import abort

MAX_KEY_LENGTH = 255


def idempotency_key():
    """Return the request's `Idempotency-Key`, or None; refuse one that is empty or too long."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        message = f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters."
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
    return int(tag) if tag.isdigit() else -1
