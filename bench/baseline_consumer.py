"""A bare pika consume-and-ack loop: the yardstick of the message benchmark.

    python bench/baseline_consumer.py AMQP_URL QUEUE COUNT [--prefetch 20] [--timeout 120]

Acks COUNT messages of QUEUE with the consumer's prefetch and prints, as JSON, how many
it acked and the times of the first delivery and of the last ack.
"""

import argparse
import json
import time

import pika


def main():
    """Consume and ack until COUNT messages or the timeout; print the timings."""
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("url")
    options.add_argument("queue")
    options.add_argument("count", type=int)
    options.add_argument("--prefetch", type=int, default=20)
    options.add_argument("--timeout", type=float, default=120)
    args = options.parse_args()
    seen = {"count": 0, "first": None, "last": None}
    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    channel = connection.channel()
    channel.basic_qos(prefetch_count=args.prefetch)

    def on_message(channel, method, _properties, _body):
        seen["first"] = seen["first"] or time.time()
        channel.basic_ack(method.delivery_tag)
        seen["count"] += 1
        if seen["count"] >= args.count:
            seen["last"] = time.time()
            channel.stop_consuming()

    channel.basic_consume(args.queue, on_message)
    connection.call_later(args.timeout, channel.stop_consuming)
    channel.start_consuming()
    connection.close()
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
