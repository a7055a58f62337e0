"""The domain's exceptions, and the one handler that renders every error as JSON.

    TicketServiceError                 500  something unexpected
    ├── NotFound                       404  no such ticket
    ├── Conflict                       409  the request clashes with the ticket's state
    │   ├── InvalidTransition          409  the lifecycle forbids the change
    │   ├── TicketNotDeletable         409  Held, Reserved or Sold tickets stay
    │   ├── HoldUnavailable            409  not enough free tickets, or one is taken
    │   │   └── CustomerLimitReached   409  the customer would have more than the event allows
    │   └── Busy                       409  a lock could not be had in time: retry
    ├── PreconditionFailed             412  If-Match names another version
    ├── InvalidRequest                 422  well-formed but unacceptable input
    │   └── IdempotencyKeyReused       422  same key, other body
    └── ServiceUnavailable             503  a dependency is down: retry

Every error leaves as `{"code", "status", "message", "errors"?}`, flask-smorest's shape,
whether it is one of these, a werkzeug HTTP error or an unexpected exception.
"""

import json
import logging
import time

from flask import jsonify, request
from flask_limiter.errors import RateLimitExceeded
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

LOCK_NOT_AVAILABLE = "55P03"
QUERY_CANCELED = "57014"


class TicketServiceError(Exception):
    """Base of every domain error."""

    code = 500
    status = "Internal Server Error"
    retry_after = None

    def __init__(self, message, errors=None):
        super().__init__(message)
        self.message = message
        self.errors = errors


class NotFound(TicketServiceError):
    """The ticket (or other resource) does not exist."""

    code = 404
    status = "Not Found"


class Conflict(TicketServiceError):
    """The request is valid but clashes with the current state."""

    code = 409
    status = "Conflict"


class InvalidTransition(Conflict):
    """The lifecycle does not allow moving from the current status to the asked one."""


class TicketNotDeletable(Conflict):
    """Only Available or Cancelled tickets may be deleted."""


class HoldUnavailable(Conflict):
    """The tickets asked for cannot be held; nothing was changed."""

    def __init__(self, message, *, requested, available):
        super().__init__(message, errors={"requested": requested, "available": available})
        self.requested = requested
        self.available = available


class CustomerLimitReached(HoldUnavailable):
    """The hold would leave its customer with more tickets of the event than the limit; nothing was changed."""

    def __init__(self, message, *, requested, limit, has):
        super().__init__(message, requested=requested, available=max(limit - has, 0))
        self.errors |= {"limit": limit, "has": has}
        self.limit = limit
        self.has = has


class Busy(Conflict):
    """A lock could not be taken within the bounded wait; the client should retry."""

    retry_after = 1


class PreconditionFailed(TicketServiceError):
    """The `If-Match` header names a version the ticket no longer has."""

    code = 412
    status = "Precondition Failed"


class InvalidRequest(TicketServiceError):
    """The request is well-formed but cannot be accepted."""

    code = 422
    status = "Unprocessable Entity"


class IdempotencyKeyReused(InvalidRequest):
    """An `Idempotency-Key` was sent again with a different request."""


class ServiceUnavailable(TicketServiceError):
    """A dependency (the database) is unreachable or too slow; the client should retry."""

    code = 503
    status = "Service Unavailable"
    retry_after = 2


def translate_database_error(exc):
    """Return the domain error for a driver error, or None when it is a bug of ours."""
    pgcode = getattr(getattr(exc, "orig", None), "pgcode", None)
    if pgcode == LOCK_NOT_AVAILABLE:
        return Busy("The tickets are being changed by another request; retry shortly.")
    if pgcode == QUERY_CANCELED:
        return ServiceUnavailable("The database did not answer in time; retry shortly.")
    if isinstance(exc, OperationalError) or getattr(exc, "connection_invalidated", False):
        return ServiceUnavailable("The database is unavailable; retry shortly.")
    return None


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


def handle_domain_error(error):
    """Render a domain error."""
    return error_response(error.code, error.status, error.message, error.errors, error.retry_after)


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
    from app.extensions import limiter  # noqa: PLC0415 - the extensions import this module's handlers' app

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
