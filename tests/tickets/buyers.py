"""Buyers for the hold race: what each asks for, and how each door is driven.

Separate module so that spawned processes can import it.
"""

import multiprocessing
import random
import threading
import uuid

import requests

from app import create_app
from app.errors import Conflict
from app.tickets.holds import hold_tickets
from config import TestConfig
from tests.servers import running_gunicorn

BARRIER_TIMEOUT = 120
THREAD_BUYERS = 20
PROCESSES = 2
BUYERS_PER_PROCESS = 10
HTTP_BUYERS = 24
EVERYONE = THREAD_BUYERS + PROCESSES * BUYERS_PER_PROCESS + HTTP_BUYERS  # 64


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


def race(app, database_url, event_id, requests_, strategy="ticket"):
    """Race one buyer per request through three doors at once; return every outcome.

    Threads calling the service, separate processes calling the service, and HTTP
    clients of two gunicorn workers all start together on one barrier. An outcome is
    `(index, booking_id, request, held ids or None, error or None)`.
    """
    plans = [(i, str(uuid.uuid4()), request) for i, request in enumerate(requests_)]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(plans))
    results = context.Queue()
    in_threads = plans[:THREAD_BUYERS]
    in_processes = plans[THREAD_BUYERS : THREAD_BUYERS + PROCESSES * BUYERS_PER_PROCESS]
    over_http = plans[THREAD_BUYERS + PROCESSES * BUYERS_PER_PROCESS :]
    with running_gunicorn(database_url, workers=2, env={"LOCK_STRATEGY": strategy}) as (base_url, _):
        processes = [
            context.Process(target=process_main,
                            args=(database_url, strategy, event_id, in_processes[n::PROCESSES], barrier, results))
            for n in range(PROCESSES)
        ]
        for process in processes:
            process.start()
        threads = run_buyers(lambda booking, request: hold_through_service(app, event_id, booking, request),
                             in_threads, barrier, results.put)
        threads += run_buyers(lambda booking, request: hold_through_http(base_url, event_id, booking, request),
                              over_http, barrier, results.put)
        outcomes = [results.get(timeout=180) for _ in plans]
        for thread in threads:
            thread.join()
        for process in processes:
            process.join(timeout=60)
            assert process.exitcode == 0
    return outcomes
