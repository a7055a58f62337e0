"""The unit of work every service function runs in."""

from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError

from app.errors import translate_database_error
from app.extensions import db


@contextmanager
def transaction():
    """Run the block in one database transaction: commit at the end, roll back on any error.

    :raises Busy: a row lock was not granted within `lock_timeout`.
    :raises ServiceUnavailable: the database is unreachable or timed out.
    """
    session = db.session
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
