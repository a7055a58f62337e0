"""What every long-running process of the service shares: a stop flag for SIGTERM, and a reconnect loop.

The consumers, the relay and the sweeper run until SIGTERM or SIGINT; the consumers and
the relay keep a broker connection, which they open again with backoff when it is lost.
"""

import logging
import signal
import threading
import time

from pika.exceptions import AMQPError

from app.errors import TicketServiceError

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30


class Stopper:
    """A stop flag set by SIGTERM or SIGINT."""

    def __init__(self):
        self.event = threading.Event()

    def install(self):
        """Set the flag on SIGTERM and SIGINT."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.event.set())

    def is_set(self):
        """Tell whether a stop was asked for."""
        return self.event.is_set()

    def wait(self, seconds):
        """Sleep up to `seconds`, less if a stop is asked for."""
        return self.event.wait(seconds)


def run_with_reconnect(work, stopper, name):
    """Run `work()` until stopped, reconnecting with exponential backoff when it fails.

    The backoff grows while attempts fail in a row; a connection lost after it served a
    while (longer than the longest backoff) is tried again a second later.
    """
    backoff = 1
    while not stopper.is_set():
        started = time.monotonic()
        try:
            work()
            backoff = 1
        except (AMQPError, OSError, TicketServiceError) as exc:
            if time.monotonic() - started > MAX_BACKOFF_SECONDS:
                backoff = 1
            log.warning("%s: connection lost (%s); reconnecting in %ss", name, exc.__class__.__name__, backoff)
            stopper.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
