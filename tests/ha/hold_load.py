"""A load of holds on one event: buyers over HTTP, and hold requests published over RabbitMQ at a steady rate."""

import threading
import time
import uuid
from dataclasses import dataclass

import requests

from tests.messaging.broker import Broker
from tests.messaging.messages import new_id, raw

HTTP_BUYERS = 3
PAUSE_SECONDS = 0.02
MESSAGES_PER_SECOND = 20
CLIENT_TIMEOUT = 15


@dataclass(frozen=True)
class Outcome:
    """One HTTP hold: when it was sent and answered, and the answer (status None: no answer in time)."""

    started: float
    finished: float
    booking: str
    status: int | None
    retry_after: str | None = None
    body: dict | None = None
    error: str = ""


def hold_over_http(base_url, event_id):
    """Hold one seat of the event for a new booking; return what happened."""
    booking = str(uuid.uuid4())
    started = time.monotonic()
    try:
        response = requests.post(f"{base_url}/api/Ticket/hold", timeout=CLIENT_TIMEOUT,
                                 json={"eventId": event_id, "bookingId": booking, "numberOfTickets": 1})
    except requests.RequestException as exc:
        return Outcome(started, time.monotonic(), booking, None, error=repr(exc))
    body = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else None
    return Outcome(started, time.monotonic(), booking, response.status_code, response.headers.get("Retry-After"), body)


class Load:
    """Buyers holding one seat each over HTTP, and hold requests published at a steady rate, until stopped."""

    def __init__(self, base_url, amqp_url, namespace, event_id):
        self.base_url = base_url
        self.amqp_url = amqp_url
        self.namespace = namespace
        self.event_id = event_id
        self.stopping = threading.Event()
        self.outcomes = []
        self.requested = []  # booking ids of the published hold requests
        self.threads = [threading.Thread(target=self._buy, daemon=True) for _ in range(HTTP_BUYERS)]
        self.threads.append(threading.Thread(target=self._publish, daemon=True))

    def start(self):
        for thread in self.threads:
            thread.start()

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=CLIENT_TIMEOUT + 5)
        assert not any(thread.is_alive() for thread in self.threads), "a load thread hung"

    def _buy(self):
        while not self.stopping.is_set():
            self.outcomes.append(hold_over_http(self.base_url, self.event_id))
            time.sleep(PAUSE_SECONDS)

    def _publish(self):
        broker = Broker(self.amqp_url, self.namespace)
        try:
            while not self.stopping.is_set():
                booking = str(uuid.uuid4())
                broker.send(raw("HoldTicketsRequest", {"bookingId": booking, "eventId": self.event_id,
                                                       "numberOfTickets": 1}, message_id=new_id()))
                self.requested.append(booking)
                broker.connection.sleep(1 / MESSAGES_PER_SECOND)
        finally:
            broker.close()

    def first_success_after(self, moment):
        """Return the first 200 of a hold sent after `moment`, or None."""
        return min((o for o in self.outcomes if o.status == 200 and o.started > moment),
                   key=lambda o: o.finished, default=None)
