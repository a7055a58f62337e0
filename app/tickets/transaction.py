"""The unit of work every service function runs in."""

from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError

from app.errors import translate_database_error
from app.extensions import db

AFTER_TRANSACTION = "after_transaction"


@contextmanager
def transaction():
    """Run the block in one database transaction: commit at the end, roll back on any error.

    Work registered with `after_transaction` (releasing Redis locks) runs once the
    transaction has ended, committed or not.

    :raises Busy: a row lock was not granted within `lock_timeout`.
    :raises ServiceUnavailable: the database is unreachable or timed out.
    """
    session = db.session()
    if not session.in_transaction():
        session.begin()
    try:
        yield session
        session.commit()
    except DBAPIError as exc:
        session.rollback()
        translated = translate_database_error(exc)
        if translated is None:
            raise
        raise translated from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        callbacks = session.info.pop(AFTER_TRANSACTION, [])
        while callbacks:
            callbacks.pop()()


def in_transaction():
    """Tell whether a `transaction()` block is open."""
    return db.session().in_transaction()


def after_transaction(callback):
    """Call `callback` when the current transaction ends (after commit or rollback)."""
    db.session.info.setdefault(AFTER_TRANSACTION, []).append(callback)
