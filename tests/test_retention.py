"""Retention: old published outbox rows and old inbox rows go, in batches, once, whoever prunes."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text

import config
from app.extensions import db
from app.messaging import inbox
from app.retention import PRUNE_SQL, prune_messages, prune_table
from app.transaction import transaction

DAY = 86_400
RETENTION = {"outbox_retention_seconds": 7 * DAY, "inbox_retention_seconds": 14 * DAY}

INSERT_OUTBOX = text(
    """
    INSERT INTO outbox_messages (message_type, body, headers, created_at, published_at)
    SELECT 'TicketsReleased', '{}', '{}', :created_at, :published_at FROM generate_series(1, :count)
    RETURNING id
    """
)
INSERT_INBOX = text(
    """
    INSERT INTO inbox_messages (consumer, message_id, received_at)
    SELECT :consumer, gen_random_uuid(), :received_at FROM generate_series(1, :count)
    RETURNING message_id
    """
)


def days_ago(days):
    return datetime.now(UTC) - timedelta(days=days)


def add_outbox(app, *, published_days_ago, count=1):
    """Insert published outbox rows (never published when `published_days_ago` is None); return their ids."""
    published_at = None if published_days_ago is None else days_ago(published_days_ago)
    with app.app_context(), db.engine.begin() as connection:
        created_at = days_ago(30)
        rows = connection.execute(INSERT_OUTBOX, {"created_at": created_at, "published_at": published_at,
                                                  "count": count})
        return {row.id for row in rows}


def add_inbox(app, *, received_days_ago, count=1, consumer="hold-tickets"):
    """Insert inbox rows of messages applied that many days ago; return their message ids."""
    with app.app_context(), db.engine.begin() as connection:
        rows = connection.execute(INSERT_INBOX, {"consumer": consumer, "received_at": days_ago(received_days_ago),
                                                 "count": count})
        return {row.message_id for row in rows}


def remaining(app, table, key):
    with app.app_context():
        try:
            return set(db.session.execute(text(f"SELECT {key} FROM {table}")).scalars())
        finally:
            db.session.remove()


def pruned_total(table):
    return REGISTRY.get_sample_value("ticket_retention_pruned_total", {"table": table}) or 0.0


def prune(app, batch_size=100, **retention):
    with app.app_context():
        try:
            return prune_messages(**(RETENTION | retention), batch_size=batch_size)
        finally:
            db.session.remove()


def test_old_published_outbox_rows_go_and_recent_or_unpublished_rows_stay(app):
    old = add_outbox(app, published_days_ago=8, count=3)
    recent = add_outbox(app, published_days_ago=6)
    unpublished = add_outbox(app, published_days_ago=None)

    assert prune(app) == {"outbox_messages": 3, "inbox_messages": 0}
    assert remaining(app, "outbox_messages", "id") == recent | unpublished
    assert not old & remaining(app, "outbox_messages", "id")


def test_old_inbox_rows_go_and_recent_rows_stay(app):
    add_inbox(app, received_days_ago=15, count=2)
    add_inbox(app, received_days_ago=15, consumer="reserve-tickets")
    recent = add_inbox(app, received_days_ago=13) | add_inbox(app, received_days_ago=0, consumer="reserve-tickets")

    assert prune(app) == {"outbox_messages": 0, "inbox_messages": 3}
    assert remaining(app, "inbox_messages", "message_id") == recent


def test_a_duplicate_inside_the_window_is_still_refused(app):
    (inside,) = add_inbox(app, received_days_ago=13)
    (outside,) = add_inbox(app, received_days_ago=15)
    prune(app)

    with app.app_context():
        with transaction():
            assert inbox.claim(consumer="hold-tickets", message_id=inside) is False
            # Past the window the inbox has forgotten the message: why INBOX_RETENTION_SECONDS is long.
            assert inbox.claim(consumer="hold-tickets", message_id=outside) is True
        db.session.remove()


def test_audit_rows_stay(app):
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO ticket_status_changes (ticket_id, from_status, to_status, source, changed_at)"
                 " VALUES (gen_random_uuid(), 'Available', 'Held', 'api', :at)"),
            {"at": days_ago(365)},
        )
    prune(app, outbox_retention_seconds=0, inbox_retention_seconds=DAY)
    assert len(remaining(app, "ticket_status_changes", "id")) == 1


def test_batches_go_until_a_short_one_and_are_counted(app):
    add_outbox(app, published_days_ago=8, count=35)
    add_inbox(app, received_days_ago=15, count=35)
    before = {table: pruned_total(table) for table in ("outbox_messages", "inbox_messages")}

    assert prune(app, batch_size=10) == {"outbox_messages": 35, "inbox_messages": 35}
    assert remaining(app, "outbox_messages", "id") == remaining(app, "inbox_messages", "message_id") == set()
    assert {table: pruned_total(table) - count for table, count in before.items()} == {
        "outbox_messages": 35, "inbox_messages": 35}


def test_a_pass_asked_to_stop_leaves_the_rest_for_the_next(app):
    add_outbox(app, published_days_ago=8, count=25)
    asked = iter([False, True])
    with app.app_context():
        pruned = prune_table(table="outbox_messages", retention_seconds=7 * DAY, batch_size=10, stop=asked.__next__)
        db.session.remove()
    assert pruned == 10
    assert len(remaining(app, "outbox_messages", "id")) == 15


def test_pruners_at_once_delete_each_row_once_and_never_fail(app):
    add_outbox(app, published_days_ago=8, count=600)
    add_inbox(app, received_days_ago=15, count=600)
    recent = add_inbox(app, received_days_ago=1, count=5)
    pruners = 4
    barrier = threading.Barrier(pruners)
    results, errors = [], []

    def run():
        barrier.wait()
        try:
            results.append(prune(app, batch_size=7))
        except Exception as exc:  # noqa: BLE001 - any error is the test's failure, reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(pruners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(result["outbox_messages"] for result in results) == 600
    assert sum(result["inbox_messages"] for result in results) == 600
    assert remaining(app, "outbox_messages", "id") == set()
    assert remaining(app, "inbox_messages", "message_id") == recent


@pytest.mark.parametrize(("table", "index"), [("outbox_messages", "ix_outbox_messages_published_at"),
                                              ("inbox_messages", "ix_inbox_messages_received_at")])
def test_a_batch_finds_its_rows_by_index_and_address_never_by_scanning_the_table(app, table, index):
    with app.app_context():
        with transaction():
            # The tables are tiny here; with scans priced out, only a missing index still shows one.
            db.session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = db.session.execute(text(f"EXPLAIN {PRUNE_SQL[table].text}"),
                                      {"retention_seconds": DAY, "batch_size": 10}).scalars().all()
        db.session.remove()
    assert not [line for line in plan if "Seq Scan" in line], "\n".join(plan)
    assert any(f"Index Scan using {index} " in line for line in plan), "\n".join(plan)
    assert any("Tid Scan" in line for line in plan), "\n".join(plan)

def test_the_sweeper_prunes(app):
    add_outbox(app, published_days_ago=8, count=2)
    add_inbox(app, received_days_ago=15)
    result = app.test_cli_runner().invoke(args=["tickets", "sweep-holds", "--once"])
    assert result.exit_code == 0, result.output
    assert "pruned 2 outbox rows, 1 inbox rows" in result.output
    assert remaining(app, "outbox_messages", "id") == remaining(app, "inbox_messages", "message_id") == set()


@pytest.mark.parametrize(
    ("settings", "complaint"),
    [
        ({"INBOX_RETENTION_SECONDS": 3_600}, "one day"),
        ({"OUTBOX_RETENTION_SECONDS": 30 * DAY}, "at least OUTBOX_RETENTION_SECONDS"),
        ({"OUTBOX_RETENTION_SECONDS": -1}, "at least 0"),
        ({"RETENTION_BATCH_SIZE": 0}, "RETENTION_BATCH_SIZE at least 1"),
        ({"RETENTION_INTERVAL_SECONDS": -1}, "at least 0"),
    ],
)
def test_config_refuses_a_retention_that_redeliveries_outlive(monkeypatch, settings, complaint):
    for name, value in settings.items():
        monkeypatch.setattr(config.TestConfig, name, value)
    with pytest.raises(ValueError, match=complaint):
        config.TestConfig()

