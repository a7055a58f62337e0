"""What MassTransit makes of a message that failed: error-queue headers and `Fault<T>`.

A message that cannot be processed is moved to `{queue}_error` with MassTransit's
`MT-Fault-*` and `MT-Host-*` headers, and `Fault<T>` is published to the exchange
`MassTransit:Fault--{namespace}:{Type}--` (bound to `MassTransit:Fault`), so a peer
that handles `Fault<T>` hears of it. A message of a type the queue does not consume
is moved to `{queue}_skipped` with `MT-Reason: dead-letter`.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from app.messaging.contracts.base import utc_text
from app.messaging.host import host_headers, host_info

FAULTED = "MessageFaulted"  # the outbox kind of a failed message, published as `Fault<T>`
FAULT_EXCHANGE = "MassTransit:Fault"
FAULT_URN = "urn:message:MassTransit:Fault"
MAX_TEXT = 2048


@dataclass(frozen=True)
class Failure:
    """Why a message failed: the exception's type (as MassTransit names types) and message."""

    exception_type: str
    message: str

    @classmethod
    def of(cls, exc):
        """Return the failure an exception stands for, its type named as MassTransit names types."""
        return cls(f"{type(exc).__module__}.{type(exc).__qualname__}", getattr(exc, "message", None) or str(exc))


def fault_exchange(full_name):
    """Return the exchange of `Fault<T>` for the type `{namespace}:{Type}`."""
    return f"{FAULT_EXCHANGE}--{full_name}--"


def fault_types(full_name):
    """Return the message type URNs of a published `Fault<T>`: `Fault<T>`, then `Fault`."""
    return [f"urn:message:MassTransit:Fault[[{full_name}]]", FAULT_URN]


def short_name(full_name):
    """Return a type's name as MassTransit's headers give it: `Namespace.Type`."""
    return full_name.replace(":", ".")


def _round_trip_time(moment):
    """Return a time as .NET's "O" format writes a UTC DateTime: seven fractional digits and `Z`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def error_headers(headers, failure, *, input_address, consumer_type, full_name):
    """Return a faulted delivery's headers plus the ones MassTransit adds when it moves it to `_error`."""
    return dict(headers or {}) | host_headers() | {
        "MT-Reason": "fault",
        "MT-Fault-ExceptionType": failure.exception_type,
        "MT-Fault-InputAddress": input_address,
        "MT-Fault-Message": failure.message[:MAX_TEXT],
        "MT-Fault-Timestamp": _round_trip_time(datetime.now(UTC)),
        "MT-Fault-StackTrace": "",
        "MT-Fault-ConsumerType": consumer_type,
        "MT-Fault-MessageType": short_name(full_name),
        "MT-Fault-RetryCount": 0,
    }


def skipped_headers(headers):
    """Return a skipped delivery's headers plus the ones MassTransit adds when it moves it to `_skipped`."""
    return dict(headers or {}) | host_headers() | {"MT-Reason": "dead-letter"}


def fault_document(*, fault_id, faulted_message_id, timestamp, failure, message_types, message):
    """Return the body of `Fault<T>`, its properties in MassTransit's order."""
    return {
        "faultId": str(fault_id),
        "faultedMessageId": None if faulted_message_id is None else str(faulted_message_id),
        "timestamp": utc_text(timestamp),
        "exceptions": [{
            "exceptionType": failure.exception_type,
            "innerException": None,
            "stackTrace": "",
            "message": failure.message[:MAX_TEXT],
            "source": "ticket-service",
            "data": None,
        }],
        "host": host_info(),
        "faultMessageTypes": list(message_types),
        "message": message,
    }
