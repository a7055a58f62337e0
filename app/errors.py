"""The domain's exceptions, each with the HTTP status it stands for, and database errors in their terms.

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
    │   ├── TooManyToCreate            422  more than one creation makes: create in bulk
    │   └── IdempotencyKeyReused       422  same key, other body
    └── ServiceUnavailable             503  a dependency is down: retry

`app.api.errors` renders each as JSON; a consumer records or faults the message it handles.
"""

from sqlalchemy.exc import OperationalError

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
    """The request is well-formed but cannot be accepted; `fields` says which of its fields is wrong and why."""

    code = 422
    status = "Unprocessable Entity"

    def __init__(self, message, fields=None):
        super().__init__(message)
        self.fields = fields


class TooManyToCreate(InvalidRequest):
    """More tickets asked for in one creation than it makes; bulk creation makes more."""


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
