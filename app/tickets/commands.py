"""`flask tickets ...`: the hold sweeper, which also prunes old outbox and inbox rows."""

import logging
import time

import click
from flask import current_app
from flask.cli import AppGroup

from app.errors import TicketServiceError
from app.metrics import serve_process_metrics
from app.retention import prune_messages
from app.runtime import Stopper
from app.tickets.expiry import release_expired_holds
from app.tracing import configure_tracing

log = logging.getLogger(__name__)
tickets_cli = AppGroup("tickets", help="Ticket maintenance commands.")


@tickets_cli.command("sweep-holds")
@click.option("--once", is_flag=True, help="Sweep and prune once and exit instead of looping.")
def sweep_holds_command(once):
    """Return expired holds to Available every SWEEP_INTERVAL_SECONDS; prune every RETENTION_INTERVAL_SECONDS."""
    configure_tracing("sweeper")
    config = current_app.config
    serve_process_metrics(config["METRICS_PORT"])
    stopper = Stopper()
    stopper.install()
    next_prune = time.monotonic()
    while not stopper.is_set():
        sweep_pass(batch_size=config["SWEEP_BATCH_SIZE"], once=once)
        if time.monotonic() >= next_prune:
            prune_pass(config, once=once, stop=stopper.is_set)
            next_prune = time.monotonic() + config["RETENTION_INTERVAL_SECONDS"]
        if once:
            return
        stopper.wait(config["SWEEP_INTERVAL_SECONDS"])


def sweep_pass(*, batch_size, once):
    """Release every expired hold, logging each; a database failure waits for the next pass."""
    try:
        expired = release_expired_holds(batch_size=batch_size)
    except TicketServiceError as exc:
        log.warning("sweep failed, retrying: %s", exc.message)
        return
    for hold in expired:
        log.info("hold expired: booking %s, event %s, %d tickets", hold.booking_id, hold.event_id, len(hold.ticket_ids))
    if once:
        click.echo(f"released {sum(len(hold.ticket_ids) for hold in expired)} expired tickets")


def prune_pass(config, *, once, stop):
    """Delete the outbox and inbox rows past their retention; a database failure waits for the next pass."""
    try:
        pruned = prune_messages(
            outbox_retention_seconds=config["OUTBOX_RETENTION_SECONDS"],
            inbox_retention_seconds=config["INBOX_RETENTION_SECONDS"],
            batch_size=config["RETENTION_BATCH_SIZE"],
            stop=stop,
        )
    except TicketServiceError as exc:
        log.warning("pruning failed, retrying in the next pass: %s", exc.message)
        return
    if any(pruned.values()):
        log.info("pruned %d outbox rows, %d inbox rows", pruned["outbox_messages"], pruned["inbox_messages"])
    if once:
        click.echo(f"pruned {pruned['outbox_messages']} outbox rows, {pruned['inbox_messages']} inbox rows")
