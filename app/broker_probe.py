"""A broker connection kept for `/health`: each queue's consumers and backlog, read on demand.

One `BrokerProbe` per broker URL per process (`probe_for`), opened at its first read and
reopened when it breaks, never once per read: a burst of health checks opens no connection.
"""

import atexit
import contextlib
import threading

import pika
from pika.exceptions import AMQPError, ChannelClosedByBroker

from app.messaging.nodes import node_parameters

CONNECTION_NAME = "ticket-service health"
NOT_FOUND = 404

_probes = {}
_probes_lock = threading.Lock()


class BrokerProbe:
    """Read queues' consumer counts and ready messages on one kept connection.

    pika's BlockingConnection is not thread-safe: every use holds one lock. Heartbeats are
    off because a BlockingConnection services them only while it is called, and health
    checks may come minutes apart: the broker would drop the idle connection and every
    rare check would open a new one. A dead connection shows at its next use instead,
    TCP_USER_TIMEOUT bounding the wait for an unanswered frame, and is replaced then (by
    one to another node, when the broker is a cluster whose node went away).
    """

    def __init__(self, url, timeout):
        self.parameters = node_parameters(
            url, heartbeat=0, connection_attempts=1, socket_timeout=timeout, stack_timeout=timeout,
            blocked_connection_timeout=timeout, tcp_options={"TCP_USER_TIMEOUT": int(timeout * 1000)},
            client_properties={"connection_name": CONNECTION_NAME},
        )
        self._lock = threading.Lock()
        self._connection = None
        self._channel = None

    def read(self, queues):
        """Return `{queue: {"consumers": n, "backlog": n}}`; a queue that does not exist has neither.

        Raises pika's `AMQPError` or `OSError` when the broker cannot be reached.
        """
        with self._lock:
            if self._connection is not None:
                try:
                    return self._read(queues)
                except (AMQPError, OSError):
                    self._close()  # broken since its last use (a broker restart): one try on a new one
            try:
                self._connection = pika.BlockingConnection(self.parameters)
                return self._read(queues)
            except (AMQPError, OSError):
                self._close()
                raise

    def close(self):
        """Close the kept connection, if open."""
        with self._lock:
            self._close()

    def _read(self, queues):
        return {queue: self._declare_passively(queue) for queue in queues}

    def _declare_passively(self, queue):
        if self._channel is None or not self._channel.is_open:
            self._channel = self._connection.channel()
        try:
            method = self._channel.queue_declare(queue, passive=True).method
        except ChannelClosedByBroker as exc:
            if exc.reply_code != NOT_FOUND:
                raise
            return {"consumers": 0, "backlog": 0}  # the broker closed the channel: the next queue opens one
        return {"consumers": method.consumer_count, "backlog": method.message_count}

    def _close(self):
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            with contextlib.suppress(AMQPError, OSError):
                connection.close()


def probe_for(url, timeout):
    """Return this process's probe of the broker at `url`, made at the first call."""
    with _probes_lock:
        if (url, timeout) not in _probes:
            _probes[url, timeout] = BrokerProbe(url, timeout)
        return _probes[url, timeout]


@atexit.register
def close_probes():
    """Close every probe's connection (each opens again at its next read)."""
    with _probes_lock:
        probes = list(_probes.values())
    for probe in probes:
        probe.close()
