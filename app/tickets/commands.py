"""`flask tickets ...`: the hold sweeper."""

import logging
import signal
import time

import click
from flask import current_app
from flask.cli import AppGroup

from app.errors import TicketServiceError
from app.metrics import serve_process_metrics
from app.tickets.expiry import release_expired_holds
from app.tracing import configure_tracing

log = logging.getLogger(__name__)
tickets_cli = AppGroup("tickets", help="Ticket maintenance commands.")


@tickets_cli.command("sweep-holds")
@click.option("--once", is_flag=True, help="Sweep once and exit instead of looping.")
def sweep_holds_command(once):
    """Return expired holds to Available, every SWEEP_INTERVAL_SECONDS until stopped."""
    configure_tracing("sweeper")
    serve_process_metrics(current_app.config["METRICS_PORT"])
    interval = current_app.config["SWEEP_INTERVAL_SECONDS"]
    batch_size = current_app.config["SWEEP_BATCH_SIZE"]
    stopping = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.append(True))
    while not stopping:
        try:
            expired = release_expired_holds(batch_size=batch_size)
            for hold in expired:
                log.info("hold expired: booking %s, event %s, %d tickets",
                         hold.booking_id, hold.event_id, len(hold.ticket_ids))
            if once:
                click.echo(f"released {sum(len(hold.ticket_ids) for hold in expired)} expired tickets")
        except TicketServiceError as exc:
            log.warning("sweep failed, retrying: %s", exc.message)
        if once:
            return
        time.sleep(interval)
