"""Buyers for the hold race: what each asks for, and how each door is driven.

Separate module so that spawned processes can import it.
"""

import random
import threading
import uuid

import requests

from app import create_app
from app.errors import Conflict
from app.tickets.holds import hold_tickets
from config import TestConfig

BARRIER_TIMEOUT = 120


def plan(index, ticket_ids):
    """Return what buyer `index` asks for: 1–4 seats, by quantity (odd) or by ids (even)."""
    rng = random.Random(index)
    count = rng.randint(1, 4)
    if index % 2:
        return {"numberOfTickets": count}
    return {"ticketIds": rng.sample(ticket_ids, count)}


def hold_through_service(app, event_id, booking_id, request):
    """Hold through the service function (the consumers' door); return the ids or None."""
    with app.app_context():
        try:
            hold = hold_tickets(
                event_id=event_id,
                booking_id=uuid.UUID(booking_id),
                number_of_tickets=request.get("numberOfTickets"),
                ticket_ids=[uuid.UUID(i) for i in request.get("ticketIds", [])] or None,
                category=request.get("category"),
                adjacent=request.get("adjacent", False),
                customer_id=request.get("customerId"),
            )
        except Conflict:
            return None
    return sorted(str(ticket_id) for ticket_id in hold.ticket_ids)


def hold_through_http(base_url, event_id, booking_id, request):
    """Hold through the REST API; return the ids or None; anything but 200/409 is an error."""
    body = {"eventId": event_id, "bookingId": booking_id} | request
    response = requests.post(f"{base_url}/api/Ticket/hold", json=body, timeout=30)
    if response.status_code == 409:
        return None
    response.raise_for_status()
    return sorted(response.json()["ticketIds"])


def run_buyers(door, buyers, barrier, report):
    """Run each buyer in its own thread, all released by `barrier`; `report` gets each outcome."""

    def buy(index, booking_id, request):
        barrier.wait(BARRIER_TIMEOUT)
        try:
            report((index, booking_id, request, door(booking_id, request), None))
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
            report((index, booking_id, request, None, repr(exc)))

    threads = [threading.Thread(target=buy, args=buyer) for buyer in buyers]
    for thread in threads:
        thread.start()
    return threads


def process_main(database_url, strategy, event_id, buyers, barrier, results):
    """Entry point of a buyer process: its own app, its own threads."""
    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = database_url
    config.LOCK_STRATEGY = strategy
    app = create_app(config)

    def door(booking_id, request):
        return hold_through_service(app, event_id, booking_id, request)

    for thread in run_buyers(door, buyers, barrier, results.put):
        thread.join()
