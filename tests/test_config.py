"""The database URL in each form it may come in: one host or several, SQLAlchemy's, libpq's or Npgsql's."""

import pytest
from sqlalchemy.engine import make_url

import config

MULTI_HOST = "postgresql+psycopg2://postgres@/tickets?host=127.0.0.1:6101&host=127.0.0.1:6102" \
             "&target_session_attrs=read-write"


@pytest.mark.parametrize(("given", "expected"), [
    ("postgresql://postgres@127.0.0.1:5432/tickets", "postgresql+psycopg2://postgres@127.0.0.1:5432/tickets"),
    ("postgres://u:p@db/tickets", "postgresql+psycopg2://u:p@db/tickets"),
    (MULTI_HOST, MULTI_HOST),
    ("postgresql://postgres@127.0.0.1:6101,127.0.0.1:6102/tickets?target_session_attrs=read-write", MULTI_HOST),
    ("postgresql+psycopg2://postgres@127.0.0.1:6101,127.0.0.1:6102/tickets?target_session_attrs=read-write",
     MULTI_HOST),
    ("postgresql://u:p%40ss@a,b:5433/tickets", "postgresql+psycopg2://u:p%40ss@/tickets?host=a&host=b:5433"),
])
def test_a_database_url_is_given_to_psycopg2_with_its_hosts_where_sqlalchemy_reads_them(given, expected):
    assert config._with_psycopg2(given) == expected


@pytest.mark.parametrize(("connection_string", "expected"), [
    ("Host=localhost;Port=5435;Database=TicketServiceDb;Username=postgres;Password=postgres;",
     "postgresql+psycopg2://postgres:postgres@localhost:5435/TicketServiceDb"),
    ("Server=db;User Id=app", "postgresql+psycopg2://app@db:5432/tickets"),
    ("Host=127.0.0.1:6101,127.0.0.1:6102;Database=tickets;Username=postgres;Target Session Attributes=read-write",
     MULTI_HOST),
    ("host=a, b:7;port=6;target session attributes=Primary",
     "postgresql+psycopg2://postgres@/tickets?host=a:6&host=b:7&target_session_attrs=primary"),
])
def test_an_npgsql_connection_string_becomes_a_url(connection_string, expected):
    assert config.npgsql_to_url(connection_string) == expected


def test_an_npgsql_target_session_attribute_libpq_lacks_is_refused():
    with pytest.raises(ValueError, match="prefer-primary"):
        config.npgsql_to_url("Host=a,b;Target Session Attributes=prefer-primary")


def test_the_psycopg2_dialect_hands_libpq_every_host_and_the_session_attributes():
    url = make_url(MULTI_HOST)
    _, arguments = url.get_dialect()().create_connect_args(url)
    assert arguments == {"dbname": "tickets", "user": "postgres", "host": "127.0.0.1,127.0.0.1", "port": "6101,6102",
                         "target_session_attrs": "read-write"}
