"""MassTransit's NewId: time-ordered GUIDs from which a .NET peer reads the time they were made.

`NewId.ToGuid()` lays out 100-nanosecond ticks since 0001-01-01 UTC, a worker id,
a process id and a sequence so that the GUID's last two groups are the ticks
(`{ticks[6:8]}-{ticks[0:6]}` in hex), and `new NewId(guid).Timestamp` reads them back.
"""

import uuid
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1, 1, 1, tzinfo=UTC)


def ticks(moment):
    """Return .NET ticks (100 ns since 0001-01-01 UTC) of an aware datetime."""
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


def new_id(moment, *, worker, process, sequence):
    """Return the GUID `NewId.ToGuid()` makes of these parts.

    `worker` fills 4 bytes (the 32 low bits of MassTransit's 6-byte worker id),
    `process` 2 bytes and `sequence` 2 bytes; the same parts give the same GUID.
    """
    t = ticks(moment).to_bytes(8, "big")
    p = (process & 0xFFFF).to_bytes(2, "little")
    s = (sequence & 0xFFFF).to_bytes(2, "little")
    w = (worker & 0xFFFFFFFF).to_bytes(4, "big")
    return uuid.UUID(hex=(p + s + w[2:4] + w[0:2] + t[6:8] + t[0:6]).hex())


def timestamp(guid):
    """Return the time a NewId GUID was made, as `NewId.Timestamp` reads it."""
    raw = uuid.UUID(str(guid)).bytes
    tick_count = int.from_bytes(raw[10:16] + raw[8:10], "big")
    return EPOCH + timedelta(microseconds=tick_count // 10)
