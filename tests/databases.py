"""Test databases on the real PostgreSQL: made afresh and migrated with Alembic."""

import os
import warnings

from flask_migrate import upgrade

from app import create_app
from app.commands import create_database, drop_database
from config import TestConfig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fresh_app(url):
    """Drop and create the database at `url`, migrate it to the head; return an app bound to it."""
    drop_database(url)
    create_database(url)
    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = url
    application = create_app(config)
    with application.app_context(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        upgrade(directory=os.path.join(ROOT, "migrations"))
    return application
