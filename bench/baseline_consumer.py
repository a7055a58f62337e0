"""Bare pika consumers, the yardsticks of the message benchmark.

    python bench/baseline_consumer.py AMQP_URL QUEUE COUNT [--prefetch 20] [--timeout 120] [--dsn DSN]

Without `--dsn`: a consume-and-ack loop. With `--dsn`: each HoldTicketsRequest is applied
as the service applies it, with psycopg2 and the service's SQL (bench/statements.py:
inbox claim, current hold, the one-statement hold, outbox row, commit), then acked.
Stops after COUNT messages or the timeout and prints, as JSON, how many it handled and
the times of the first delivery and of the last ack.
"""

import argparse
import json
import time

import pika
import psycopg2
import statements as sql

INBOX = "bench-baseline"


def hold_applier(dsn):
    """Return a function applying one HoldTicketsRequest body in its own transaction."""
    connection = psycopg2.connect(dsn, options="-c timezone=UTC -c application_name=bench-baseline-consumer")

    def apply(body, message_id):
        request = json.loads(body)
        booking_id, event_id = request["bookingId"], request["eventId"]
        with connection, connection.cursor() as cursor:
            cursor.execute(sql.INBOX_CLAIM, {"consumer": INBOX, "message_id": message_id})
            if cursor.fetchone() is None:
                return
            cursor.execute(sql.CURRENT_HOLD, {"booking_key": booking_id, "booking_id": booking_id,
                                              "event_id": event_id})
            if cursor.fetchall():
                return
            cursor.execute(sql.HOLD_AVAILABLE, {
                "event_id": event_id, "count": request["numberOfTickets"], "to_status": "Held",
                "booking_id": booking_id, "customer_id": None, "keep_owner": False, "hold_seconds": 600.0,
                "source": "consumer:hold-tickets", "correlation_id": booking_id})
            moved = cursor.fetchall()
            facts = {"booking_id": booking_id, "event_id": event_id, "ticket_ids": sorted(row[0] for row in moved),
                     "held_until": moved[0][4] if moved else None}
            context = {"correlationId": message_id, "message": {"queue": "hold-tickets", "contractSet": "readme",
                                                                 "messageId": message_id}}
            cursor.execute(sql.OUTBOX, {"kinds": ["TicketsHeld"], "facts": [json.dumps(facts, default=str)],
                                        "contexts": [json.dumps(context)]})

    return apply


def main():
    """Consume (and apply) until COUNT messages or the timeout; print the timings."""
    options = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument("url")
    options.add_argument("queue")
    options.add_argument("count", type=int)
    options.add_argument("--prefetch", type=int, default=20)
    options.add_argument("--timeout", type=float, default=120)
    options.add_argument("--dsn", help="apply each hold request in PostgreSQL before the ack")
    args = options.parse_args()
    apply = hold_applier(args.dsn) if args.dsn else None
    seen = {"count": 0, "first": None, "last": None}
    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    channel = connection.channel()
    channel.basic_qos(prefetch_count=args.prefetch)

    def on_message(channel, method, properties, body):
        seen["first"] = seen["first"] or time.time()
        if apply:
            apply(body, properties.message_id)
        channel.basic_ack(method.delivery_tag)
        seen["count"] += 1
        seen["last"] = time.time()
        if seen["count"] >= args.count:
            channel.stop_consuming()

    channel.basic_consume(args.queue, on_message)
    connection.call_later(args.timeout, channel.stop_consuming)
    channel.start_consuming()
    connection.close()
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
