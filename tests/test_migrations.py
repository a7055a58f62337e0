"""The migrations build exactly the schema the models describe."""

import os

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, MetaData, String

from app.extensions import db

MIGRATIONS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")
OPTIONS = {"compare_type": True, "compare_server_default": True}


def differences_from(app, metadata):
    """Compare the migrated test database with `metadata`, as `flask db migrate` would."""
    with app.app_context(), db.engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection, opts=OPTIONS), metadata)


def test_test_database_is_at_the_head_revision(app):
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    head = ScriptDirectory.from_config(config).get_current_head()

    with app.app_context(), db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()

    assert head is not None
    assert current == head


def test_models_and_migrations_agree(app):
    assert differences_from(app, db.metadata) == []


def describe(difference):
    """Name one difference: its kind and, for a column, the column's name."""
    operation = difference[0] if isinstance(difference, list) else difference
    column = operation[3] if operation[0] in ("add_column", "remove_column") else None
    return operation[0], getattr(column, "name", None)


def test_the_comparison_notices_a_model_change(app):
    changed = MetaData()
    for table in db.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["tickets"].append_column(Column("seat", String(8)))

    noticed = {describe(difference) for difference in differences_from(app, changed)}
    known = {describe(difference) for difference in differences_from(app, db.metadata)}

    assert noticed - known == {("add_column", "seat")}
