"""The unit of work every service function runs in."""

import logging
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError

from app.errors import translate_database_error
from app.extensions import db

log = logging.getLogger(__name__)

OPEN = "transaction_open"
AFTER_TRANSACTION = "after_transaction"
AFTER_COMMIT = "after_commit"
BEFORE_COMMIT = "before_commit"
SAVEPOINTS = "savepoints"  # the open savepoints, innermost last
ROLLED_BACK = "rolled_back_savepoints"


@contextmanager
def _translated_errors(rollback):
    """Roll back on any error; turn driver errors into domain errors."""
    try:
        yield
    except DBAPIError as exc:
        rollback()
        translated = translate_database_error(exc)
        if translated is None:
            raise
        raise translated from exc
    except BaseException:
        rollback()
        raise


@contextmanager
def transaction():
    """Run the block in one database transaction: commit at the end, roll back on any error.

    Inside another `transaction()` block the block runs in a savepoint: an error undoes
    the block alone and the outer transaction goes on (a consumer records the message it
    handles in the same transaction as the service function's change). Work registered
    with `after_transaction` (releasing Redis locks) runs once the outermost transaction
    has ended, committed or not; work registered with `after_commit`, only once it has
    committed.

    :raises Busy: a row lock was not granted within `lock_timeout`.
    :raises ServiceUnavailable: the database is unreachable or timed out.
    """
    session = db.session()
    if session.info.get(OPEN):
        yield from _savepoint(session)
        return
    if not session.in_transaction():
        session.begin()
    session.info[OPEN] = True
    committed = False
    try:
        with _translated_errors(session.rollback):
            yield session
            for callback in session.info.pop(BEFORE_COMMIT, []):
                callback()
            session.commit()
            committed = True
    finally:
        for key in (OPEN, BEFORE_COMMIT, SAVEPOINTS, ROLLED_BACK):
            session.info.pop(key, None)
        callbacks = session.info.pop(AFTER_TRANSACTION, [])
        on_commit = session.info.pop(AFTER_COMMIT, [])
        _run(reversed(callbacks + (on_commit if committed else [])))


def _savepoint(session):
    savepoint = session.begin_nested()
    open_savepoints = session.info.setdefault(SAVEPOINTS, [])
    open_savepoints.append(savepoint)

    def rollback():
        session.info.setdefault(ROLLED_BACK, set()).add(savepoint)
        savepoint.rollback()

    try:
        with _translated_errors(rollback):
            yield session
            savepoint.commit()
    finally:
        open_savepoints.pop()


def _run(callbacks):
    """Run every callback, each on its own: one that fails is logged and the others still run."""
    for callback in callbacks:
        try:
            callback()
        except Exception:  # noqa: BLE001 - the transaction has ended; what follows it must all run
            log.exception("a callback after the transaction failed")


def in_transaction():
    """Tell whether a `transaction()` block is open."""
    return bool(db.session().info.get(OPEN))


def after_transaction(callback):
    """Call `callback` when the outermost transaction ends (after commit or rollback)."""
    db.session().info.setdefault(AFTER_TRANSACTION, []).append(callback)


def before_commit(callback):
    """Call `callback` just before the outermost transaction commits, inside it (its errors roll it back)."""
    db.session().info.setdefault(BEFORE_COMMIT, []).append(callback)


def open_savepoints():
    """Return the savepoints open now, outermost first: what work done now would be undone with."""
    return tuple(db.session().info.get(SAVEPOINTS, ()))


def rolled_back(savepoints):
    """Tell whether any of these savepoints has been rolled back."""
    return not db.session().info.get(ROLLED_BACK, set()).isdisjoint(savepoints)


def after_commit(callback):
    """Call `callback` once the outermost transaction has committed; not at all if it rolls back."""
    db.session().info.setdefault(AFTER_COMMIT, []).append(callback)
