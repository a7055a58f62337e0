"""Every error the API answers, as JSON in flask-smorest's shape: `{"code", "status", "message", "errors"?}`.

Domain errors (`app.errors`), werkzeug's HTTP errors (routing, webargs validation, a body
too large, a rate limit), bodies the JSON parser gives up on, and anything unexpected,
which is logged and answered 500 without its details.
"""

import json
import logging
import time

from flask import jsonify, request
from flask_limiter.errors import RateLimitExceeded
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from app.errors import (
    IdempotencyKeyReused,
    InvalidRequest,
    TicketServiceError,
    TooManyToCreate,
    translate_database_error,
)
from app.extensions import limiter

log = logging.getLogger(__name__)


def _with_string_keys(errors):
    """Return `errors` with every key a string, as JSON has them.

    Marshmallow keys a list's item errors by index and its own errors by `_schema`, and
    a mapping with both int and str keys cannot be serialised with sorted keys.
    """
    if isinstance(errors, dict):
        return {str(key): _with_string_keys(value) for key, value in errors.items()}
    return errors


def error_response(code, status, message, errors=None, retry_after=None):
    """Build the JSON error response shared by every error."""
    payload = {"code": code, "status": status, "message": message}
    if errors:
        payload["errors"] = _with_string_keys(errors)
    response = jsonify(payload)
    response.status_code = code
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _errors_of(error):
    """Return where a domain error's request went wrong, in flask-smorest's terms (by location), or its facts."""
    if isinstance(error, IdempotencyKeyReused):
        return {"headers": {"Idempotency-Key": ["Already used with a different request."]}}
    if isinstance(error, InvalidRequest):
        return {"json": error.fields} if error.fields else None
    return error.errors


def _message_of(error):
    """Return a domain error's message, with the endpoint to use where it names one in other words."""
    if isinstance(error, TooManyToCreate):
        return f"{error.message} Use POST /api/Ticket/bulk for more."
    return error.message


def handle_domain_error(error):
    """Render a domain error."""
    return error_response(error.code, error.status, _message_of(error), _errors_of(error), error.retry_after)


def _body_message(body_errors):
    """Summarise the body's errors: a whole-body error (`Invalid JSON body.`) says it all."""
    if isinstance(body_errors, list):
        return " ".join(body_errors)
    return "The request body is invalid; see errors."


def _body_is_not_json(errors):
    """Tell whether the body failed validation only because it was not sent as JSON."""
    return bool(errors and "json" in errors and request.content_length and not request.is_json)


def handle_http_exception(error):
    """Render a werkzeug HTTP error (routing, webargs validation, body too large…)."""
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    if error.code == 422 and _body_is_not_json(errors):
        # webargs ignores a body that is not JSON, so it would only report missing fields.
        return error_response(415, "Unsupported Media Type", "The body must be JSON (Content-Type: application/json).")
    message = data.get("message") or error.description
    if errors and "json" in errors and not data.get("message"):
        message = _body_message(errors["json"])
    response = error_response(error.code, error.name, message, errors)
    response.headers.extend(data.get("headers") or {})
    if getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)
    if isinstance(error, RateLimitExceeded):
        response.headers["Retry-After"] = str(_seconds_until_reset())
    return response


def _seconds_until_reset():
    """Seconds until the breached rate limit's window resets (at least 1)."""
    breached = limiter.current_limit
    return max(1, breached.reset_at - int(time.time())) if breached else 1


def handle_unexpected(error):
    """Render anything else as a 5xx without leaking internals."""
    if isinstance(error, DBAPIError):
        translated = translate_database_error(error)
        if translated is not None:
            log.warning("database error: %s", error.__class__.__name__)
            return handle_domain_error(translated)
    log.exception("unhandled error")
    return error_response(500, "Internal Server Error", "An unexpected error occurred.")


def handle_unparseable_body(error):
    """Render a JSON body the parser gives up on as a 400; any other such error is unexpected.

    The parser refuses JSON nested too deeply (`RecursionError`) or holding an integer of
    more than 4,300 digits (`ValueError`), errors webargs does not turn into a 400 itself.
    """
    if request.is_json and request.content_length:
        try:
            json.loads(request.get_data(cache=True))
        except RecursionError:
            return error_response(400, "Bad Request", "The JSON body is nested too deeply.")
        except ValueError:
            return error_response(400, "Bad Request", "The JSON body holds a number with too many digits.")
    return handle_unexpected(error)


def register_error_handlers(app):
    """Render every error as JSON in flask-smorest's shape."""
    app.register_error_handler(TicketServiceError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(RecursionError, handle_unparseable_body)
    app.register_error_handler(ValueError, handle_unparseable_body)
    app.register_error_handler(Exception, handle_unexpected)
