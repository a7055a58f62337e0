"""Run one message process: `python -m consumers QUEUE` or `python -m consumers relay`.

QUEUE is one of event-published, hold-tickets, reserve-tickets, release-tickets, create-event-ticket.
"""

import argparse

from app import create_app
from app.messaging.consumer import QueueConsumer
from app.messaging.contracts import CONSUMED
from app.messaging.relay import OutboxRelay
from app.metrics import serve_process_metrics
from app.tracing import configure_tracing


def main():
    """Build the app and run the chosen process until SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m consumers", description=__doc__)
    parser.add_argument("process", choices=[*CONSUMED, "relay"])
    args = parser.parse_args()
    app = create_app()
    configure_tracing(args.process)
    serve_process_metrics(app.config["METRICS_PORT"])
    if args.process == "relay":
        OutboxRelay(app).run()
    else:
        QueueConsumer(app, args.process).run()


if __name__ == "__main__":
    main()
