"""The message processes: a consumer per queue, and the outbox relay."""
