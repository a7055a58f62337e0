"""The message door into the ticket domain: MassTransit-compatible contracts, outbox, inbox, consumers."""
