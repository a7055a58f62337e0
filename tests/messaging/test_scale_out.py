"""Scaled out on one machine: two API instances and two consumers per queue share one database,
Redis and broker; buyers over HTTP and over messages race for one event, and it still holds:
no ticket held twice, every message answered once, the table agrees with every answer."""

import threading
import time
import uuid
from collections import Counter

import requests

from tests.messaging.database import eventually
from tests.messaging.messages import new_id, raw
from tests.servers import running_gunicorn

TICKETS = 150
HTTP_BUYERS = 40
MESSAGE_BUYERS = 90


def test_two_api_instances_and_two_consumers_per_queue_sell_each_ticket_once(
    services, spawn, broker, database, database_url, amqp_url, namespace, make_tickets, event_id
):
    make_tickets(event_id, TICKETS)
    spawn("hold-tickets")
    spawn("relay")
    listener = broker.listen("TicketHeldEvent", "TicketHoldFailedEvent")
    env = {"RABBITMQ_URL": amqp_url, "MESSAGE_NAMESPACE": namespace}
    with running_gunicorn(database_url, workers=2, env=env) as (first, _), \
            running_gunicorn(database_url, workers=2, env=env) as (second, _):
        by_http, barrier = {}, threading.Barrier(HTTP_BUYERS + 1)

        def buy(base_url):
            booking = str(uuid.uuid4())
            barrier.wait(timeout=60)
            body = {"eventId": event_id, "bookingId": booking, "numberOfTickets": 2}
            response = requests.post(f"{base_url}/api/Ticket/hold", json=body, timeout=60)
            by_http[booking] = (response.status_code, response.json())

        buyers = [threading.Thread(target=buy, args=((first, second)[n % 2],)) for n in range(HTTP_BUYERS)]
        for buyer in buyers:
            buyer.start()
        by_message = [str(uuid.uuid4()) for _ in range(MESSAGE_BUYERS)]
        barrier.wait(timeout=60)
        broker.send_all(
            raw("HoldTicketsRequest", {"bookingId": booking, "eventId": event_id, "numberOfTickets": 1},
                message_id=new_id())
            for booking in by_message
        )
        for buyer in buyers:
            buyer.join(timeout=120)

    assert {status for status, _ in by_http.values()} <= {200, 409}
    every_booking = set(by_http) | set(by_message)
    assert eventually(lambda: database.inbox_count("hold-tickets") == MESSAGE_BUYERS, timeout=60)
    assert len(listener.receive(count=MESSAGE_BUYERS, timeout=60)) >= MESSAGE_BUYERS
    time.sleep(1)  # any second answer would have come by now
    listener.drain()
    answers = Counter(message.booking_id for message in listener.messages)
    assert set(by_message) <= set(answers)
    assert all(answers[booking] == 1 for booking in by_message), "a message was answered twice"

    held = {ticket: owner for ticket, (status, owner) in database.tickets(event_id).items() if status == "Held"}
    assert set(held.values()) <= every_booking
    http_won = {booking: body["ticketIds"] for booking, (status, body) in by_http.items() if status == 200}
    for booking, ticket_ids in http_won.items():
        assert all(held[ticket] == booking for ticket in ticket_ids)
    message_won = {
        message.booking_id: message.body["ticketIds"]
        for message in listener.matching(types=("TicketHeldEvent",)) if message.booking_id in by_message
    }
    for booking, ticket_ids in message_won.items():
        assert all(held[ticket] == booking for ticket in ticket_ids)
    assert len(held) == sum(map(len, http_won.values())) + sum(map(len, message_won.values()))
    assert len(held) == TICKETS, "the event sold out: demand was higher than supply"
