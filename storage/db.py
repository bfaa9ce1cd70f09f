"""Engine and sessions. SQLite (the default): WAL mode, a busy timeout on every connection,
and writers that take the lock up front. PostgreSQL (`postgresql+psycopg://`, psycopg 3):
its own locking, a pool checked before use. Everything else is the same on both."""

from __future__ import annotations

import asyncio
import sqlite3
import zlib
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session, create_engine

from storage.migrations import Migration, migrate

T = TypeVar("T")

BUSY_TIMEOUT_MS = 10_000


def is_sqlite(database_url: str) -> bool:
    return database_url.startswith("sqlite")


def make_engine(database_url: str) -> Engine:
    # hide_parameters: a database error (its message, its traceback, SQL logging if anyone
    # turns it on) must never print the values bound to a statement: people's goals, ratings
    # and answers.
    if not is_sqlite(database_url):
        engine = create_engine(
            database_url, hide_parameters=True, pool_pre_ping=True, pool_size=10, max_overflow=10
        )
        event.listen(engine, "before_cursor_execute", _without_nul, retval=True)
        return engine
    engine = create_engine(
        database_url, connect_args={"check_same_thread": False}, hide_parameters=True
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        # Take transaction control from pysqlite so that BEGIN below is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # IMMEDIATE takes the write lock up front, so a busy database makes us wait
        # (busy_timeout) instead of failing when a read turns into a write mid-transaction.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


# PostgreSQL's text cannot hold NUL (SQLite's can): a value from Slack or a person with one in
# it (an event ID, a form answer) would fail its whole transaction. It is stored as U+FFFD.
NUL, NUL_STORED_AS = "\x00", "\ufffd"


def _scrub(values: Any) -> Any:
    if isinstance(values, str):
        return values.replace(NUL, NUL_STORED_AS) if NUL in values else values
    if isinstance(values, dict):
        return {key: _scrub(value) for key, value in values.items()}
    if isinstance(values, list | tuple):
        return type(values)(_scrub(each) for each in values)
    return values


def _without_nul(
    _conn: Connection,
    _cursor: Any,
    statement: str,
    parameters: Any,
    _context: Any,
    _executemany: bool,
) -> tuple[str, Any]:
    return statement, _scrub(parameters)


class HeldLock:
    """An exclusive lock between processes sharing the database; `release()` when done."""

    def __init__(self, connection: Connection | None, key: int) -> None:
        self._connection = connection
        self._key = key

    def release(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
        finally:
            self._connection.close()
            self._connection = None


class Database:
    """Runs repository functions in a worker thread so SQLite waits never block the event loop."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def prepare(self) -> Migration:
        """Apply the schema's pending Alembic revisions (storage/migrations.py)."""
        return migrate(self.engine)

    def run_sync(self, work: Callable[[Session], T]) -> T:
        with Session(self.engine, expire_on_commit=False) as session:
            result = work(session)
            session.commit()
            return result

    async def run(self, work: Callable[[Session], T]) -> T:
        return await asyncio.to_thread(self.run_sync, work)

    def try_lock(self, name: str) -> HeldLock | None:
        """Take the lock called `name` if no other process holds it (None if one does).

        PostgreSQL: a session-level advisory lock, held by a connection of its own until
        released, so the work done under it may use any other connection. SQLite: every
        writer already waits for the one write lock, so this lock is always granted."""
        if self.engine.dialect.name != "postgresql":
            return HeldLock(None, 0)
        key = zlib.crc32(name.encode())
        connection = self.engine.connect()
        try:
            taken = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": key}
            ).scalar_one()
            connection.commit()
        except Exception:
            connection.close()
            raise
        if not taken:
            connection.close()
            return None
        return HeldLock(connection, key)

    def ping(self) -> bool:
        # A raw connection skips our BEGIN IMMEDIATE: a health probe must not queue for the lock.
        connection = self.engine.raw_connection()
        try:
            row: object = connection.cursor().execute("SELECT 1").fetchone()
            return row == (1,)
        finally:
            connection.close()

    def close(self) -> None:
        self.engine.dispose()
