"""Databases for tests: a SQLite file, or a fresh PostgreSQL database per test.

PostgreSQL runs need a server: set TEST_DATABASE_URL to any database on it, for example
postgresql+psycopg://postgres@127.0.0.1:5432/test. Each test then gets a database of its
own, made empty through the server's `postgres` database and dropped afterwards. Without
the variable those runs are skipped, so the default test run needs no server.

In a test module (pytest finds fixtures imported into the module; each is registered under
its own name, so the import's name differs from the argument's):

    from tests.kit.databases import database_url_fixture  # noqa: F401  (database_url)

    def test_something(database_url):  # runs on "sqlite", and on "postgresql" when set
        engine = make_engine(database_url)
        ...
        engine.dispose()  # before the database is dropped: the fixture checks

`postgresql_url` (postgresql_url_fixture) is the PostgreSQL half alone;
`fresh_postgresql_database()` gives a URL outside a fixture; mark a test
`@needs_postgresql` when it uses TEST_DATABASE_URL itself.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection, Engine, create_engine, make_url, text
from sqlalchemy.pool import NullPool

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
SKIP_REASON = "TEST_DATABASE_URL is not set: the PostgreSQL runs were skipped"
needs_postgresql = pytest.mark.skipif(not TEST_DATABASE_URL, reason=SKIP_REASON)

# The two databases the bot runs on, for @pytest.fixture(params=DIALECTS) or parametrize.
DIALECTS = ("sqlite", pytest.param("postgresql", marks=needs_postgresql))


class LeftOpen(AssertionError):
    """A test ended with connections still open to its database (an engine not disposed)."""


@contextmanager
def fresh_postgresql_database() -> Iterator[str]:
    """A new, empty database on TEST_DATABASE_URL's server, with a random name; yields its
    URL and drops it afterwards. Dispose every engine made on it before this ends: a
    connection still open then fails the test (after dropping the database anyway)."""
    if not TEST_DATABASE_URL:
        pytest.skip(SKIP_REASON)
    server = make_url(TEST_DATABASE_URL)
    name = f"test_{secrets.token_hex(8)}"
    # CREATE and DROP DATABASE cannot run in a transaction: autocommit, and no pool to keep.
    admin = create_engine(
        server.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            _drop(admin, name)
    finally:
        admin.dispose()


def _drop(admin: Engine, name: str) -> None:
    with admin.connect() as conn:
        left_open = _connections(conn, name)
        # FORCE (PostgreSQL 13+) ends those connections, so no database is left behind.
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if left_open:
        raise LeftOpen(
            f"{left_open} connection(s) were still open to the test database {name}: "
            "dispose the engine (Database.close()) before the test ends"
        )


def _connections(conn: Connection, name: str) -> int:
    """Connections to the database, after giving the ones just closed time to go: the
    server ends a backend a moment after its client hangs up."""
    deadline = time.monotonic() + 5
    while True:
        count: int = conn.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE datname = :name"), {"name": name}
        ).scalar_one()
        if count == 0 or time.monotonic() > deadline:
            return count
        time.sleep(0.05)


@pytest.fixture(name="postgresql_url")
def postgresql_url_fixture() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test (skipped without TEST_DATABASE_URL)."""
    with fresh_postgresql_database() as url:
        yield url


@pytest.fixture(name="database_url", params=DIALECTS)
def database_url_fixture(
    request: pytest.FixtureRequest, tmp_path: os.PathLike[str]
) -> Iterator[str]:
    """The test runs twice: on a new SQLite file, then on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{os.path.join(tmp_path, 'mentor.db')}"
        return
    with fresh_postgresql_database() as url:
        yield url
