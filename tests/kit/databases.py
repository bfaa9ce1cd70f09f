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
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest
from sqlalchemy import Connection, Engine, create_engine, make_url, text
from sqlalchemy.pool import NullPool

T = TypeVar("T")

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
SKIP_REASON = "TEST_DATABASE_URL is not set: the PostgreSQL runs were skipped"
# A PostgreSQL run: skipped without a server, and marked so the run's last line counts it.
_ON_POSTGRESQL = (
    pytest.mark.postgresql,
    pytest.mark.skipif(not TEST_DATABASE_URL, reason=SKIP_REASON),
)


def needs_postgresql(test: T) -> T:
    """For a test of its own that uses TEST_DATABASE_URL's server."""
    marked: Any = test
    for mark in _ON_POSTGRESQL:
        marked = mark(marked)
    return cast(T, marked)


# The two databases the bot runs on, for @pytest.fixture(params=DIALECTS) or parametrize.
DIALECTS = ("sqlite", pytest.param("postgresql", marks=_ON_POSTGRESQL))


# For an end-to-end test about the SQLite file itself (its write lock, its bytes): the `bot`
# fixture then runs on SQLite alone.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def unreachable_server() -> str | None:
    """Why TEST_DATABASE_URL's server cannot be used, or None when it answers: a run asked
    to cover PostgreSQL fails at once rather than skipping or erroring test by test."""
    if not TEST_DATABASE_URL:
        return None
    engine = create_engine(
        TEST_DATABASE_URL, poolclass=NullPool, connect_args={"connect_timeout": 5}
    )
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as error:  # any failure to answer: the message says which
        where = make_url(TEST_DATABASE_URL).render_as_string(hide_password=True)
        return f"TEST_DATABASE_URL={where} cannot be used: {type(error).__name__}: {error}"
    finally:
        engine.dispose()
    return None


def postgresql_summary(stats: dict[str, list[pytest.TestReport]]) -> str:
    """One line for the end of the run: how the PostgreSQL half went, or that it was skipped."""
    if not TEST_DATABASE_URL:
        skipped = sum(1 for report in stats.get("skipped", []) if _on_postgresql(report))
        return f"PostgreSQL: {SKIP_REASON} ({skipped} of them; set it to a server to run them)"
    counts = {
        outcome: sum(1 for report in stats.get(outcome, []) if _on_postgresql(report))
        for outcome in ("passed", "failed", "error", "skipped")
    }
    where = make_url(TEST_DATABASE_URL).render_as_string(hide_password=True)
    return f"PostgreSQL ({where}): " + ", ".join(f"{n} {what}" for what, n in counts.items())


def _on_postgresql(report: pytest.TestReport) -> bool:
    if getattr(report, "when", "call") != "call" and report.passed:
        return False  # a test's setup and teardown reports are not runs of their own
    return "postgresql" in report.keywords


class LeftOpen(AssertionError):
    """A test ended with connections still open to its database (an engine not disposed)."""


@contextmanager
def fresh_postgresql_database(template: str | None = None) -> Iterator[str]:
    """A new database on TEST_DATABASE_URL's server, with a random name: empty, or a copy of
    the database named `template`; yields its URL and drops it afterwards. Dispose every
    engine made on it before this ends: a connection still open then fails the test (after
    dropping the database anyway)."""
    if not TEST_DATABASE_URL:
        pytest.skip(SKIP_REASON)
    server = make_url(TEST_DATABASE_URL)
    name = f"test_{secrets.token_hex(8)}"
    # CREATE and DROP DATABASE cannot run in a transaction: autocommit, and no pool to keep.
    admin = create_engine(
        server.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    copy = f' TEMPLATE "{template}"' if template else ""
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"{copy}')
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


def everything_stored(url: str) -> bytes:
    """All a database holds, for "this text is kept nowhere" checks: a SQLite file's bytes
    and its WAL's (free pages included); on PostgreSQL, whose files are the server's, every
    row of every table as text."""
    if url.startswith("sqlite"):
        path = Path(make_url(url).database or "")
        wal = path.with_name(path.name + "-wal")
        return b"".join(p.read_bytes() for p in (path, wal) if p.exists())
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            tables = conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ).scalars()
            rows = [
                str(row).encode()
                for table in list(tables)
                for row in conn.exec_driver_sql(f'SELECT t::text FROM "{table}" t')
            ]
    finally:
        engine.dispose()
    return b"\n".join(rows)


@pytest.fixture(scope="session")
def migrated_postgresql_template() -> Iterator[str]:
    """The name of a database migrated to the newest revision, made once per test run:
    copying it (CREATE DATABASE ... TEMPLATE) takes a tenth of a second, where running
    every revision takes several times that for each of hundreds of end-to-end tests."""
    from storage.db import Database, make_engine  # the product, imported only when used

    with fresh_postgresql_database() as url:
        database = Database(make_engine(url))
        try:
            database.prepare()
        finally:
            database.close()  # a template cannot be copied while anyone is connected to it
        yield str(make_url(url).database)


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
