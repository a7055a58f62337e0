"""Command-line commands: `flask create-db`."""

import click
from flask import current_app
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.tickets.commands import tickets_cli


def _server_engine(database_url):
    url = make_url(database_url)
    return url.database, create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")


def create_database(database_url):
    """Create the database named in `database_url` unless it exists; return whether it was created."""
    name, engine = _server_engine(database_url)
    try:
        with engine.connect() as connection:
            exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name})
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            return not exists
    finally:
        engine.dispose()


def drop_database(database_url):
    """Drop the database named in `database_url`, closing its other connections first."""
    name, engine = _server_engine(database_url)
    try:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


@click.command("create-db")
def create_db_command():
    """Create the configured database if it is missing."""
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    created = create_database(url)
    click.echo(f"database {make_url(url).database}: {'created' if created else 'exists'}")


def register_commands(app):
    """Add the service's commands to `flask`."""
    app.cli.add_command(create_db_command)
    app.cli.add_command(tickets_cli)
