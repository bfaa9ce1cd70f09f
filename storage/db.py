"""Engine and sessions. SQLite (the default): WAL mode, a busy timeout on every connection,
and writers that take the lock up front. PostgreSQL (`postgresql+psycopg://`, psycopg 3):
its own locking, a pool checked before use. Everything else is the same on both."""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import sqlite3
import threading
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session, create_engine

from storage.migrations import Migration, migrate

T = TypeVar("T")

BUSY_TIMEOUT_MS = 10_000
READ_ONLY = "reverse_mentor_read_only"  # an execution option of a read's connection


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
        # A read-only transaction (Database.read) is deferred: in WAL mode it never waits.
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
        else:
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

    async def release_async(self) -> None:
        """`release()` from the event loop, on a thread only when a connection holds it."""
        if self._connection is not None:
            await asyncio.to_thread(self.release)

    def release(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
        finally:
            self._connection.close()
            self._connection = None


class WriteInRead(RuntimeError):
    """Work given to Database.read tried to change a row: it belongs in Database.run."""


class _ReadSession(Session):
    """The session of a Database.read: it refuses to flush a change (_refuse_writes)."""


@event.listens_for(_ReadSession, "before_flush")
def _refuse_writes(session: Session, _context: Any, _instances: Any) -> None:
    # Listening on the class once, not on each session: event.listen per read cost more
    # than many of the reads themselves.
    if session.new or session.dirty or session.deleted:
        raise WriteInRead("a read-only transaction tried to write; use Database.run")


@dataclass
class _Write:
    work: Callable[[Session], Any]
    done: concurrent.futures.Future[Any]


class Database:
    """Runs repository functions in worker threads of its own, so SQLite waits never block
    the event loop and database work never queues behind other threads' work.

    - `read(work)`: a read-only transaction on a bounded pool of reader threads. On SQLite
      it is deferred (a plain BEGIN): in WAL mode readers never wait for the writer.
    - `run(work)`: a write. On SQLite every write of this process goes through one writer
      thread (SQLite has one write lock anyway) that commits the writes waiting at the same
      moment together: each in a savepoint of one `BEGIN IMMEDIATE` transaction, so each
      stays all-or-nothing and a failing one takes none of the others with it, while the
      commit is shared (group commit). On PostgreSQL each write is its own transaction on
      a bounded pool of writer threads.
    - `run_sync(work)`: a write transaction on the calling thread (scripts, tests)."""

    READERS = 8
    PG_WRITERS = 8
    GROUP_MAX = 64  # writes committed together at most

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        self._readers = ThreadPoolExecutor(self.READERS, thread_name_prefix="db-read")
        self._writers = ThreadPoolExecutor(
            1 if self._sqlite else self.PG_WRITERS, thread_name_prefix="db-write"
        )
        self._queue: queue.SimpleQueue[_Write] = queue.SimpleQueue()
        self._draining = threading.Lock()

    def prepare(self) -> Migration:
        """Apply the schema's pending Alembic revisions (storage/migrations.py)."""
        return migrate(self.engine)

    def run_sync(self, work: Callable[[Session], T]) -> T:
        with Session(self.engine, expire_on_commit=False) as session:
            result = work(session)
            session.commit()
            return result

    def read_sync(self, work: Callable[[Session], T]) -> T:
        """A read-only transaction, ended without a commit when the connection goes back to
        the pool. The rows read stay readable (closing a session, unlike rolling it back,
        does not expire them)."""
        with self.engine.connect() as connection:
            connection.execution_options(**{READ_ONLY: True})
            with _ReadSession(bind=connection, expire_on_commit=False) as session:
                return work(session)

    async def read(self, work: Callable[[Session], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self.read_sync, work)

    async def run(self, work: Callable[[Session], T]) -> T:
        if not self._sqlite:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._writers, self.run_sync, work)
        done: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._queue.put(_Write(work, done))
        self._writers.submit(self._drain)
        return await asyncio.wrap_future(done)

    def _drain(self) -> None:
        """Commit every write waiting now, GROUP_MAX at a time (the writer thread)."""
        with self._draining:
            while True:
                batch: list[_Write] = []
                while len(batch) < self.GROUP_MAX:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                if not batch:
                    return
                self._commit_together(batch)

    def _commit_together(self, batch: list[_Write]) -> None:
        if len(batch) == 1:  # the usual case when nothing else is writing: no savepoint
            write = batch[0]
            try:
                write.done.set_result(self.run_sync(write.work))
            except BaseException as exc:  # handed to the caller, whatever it is
                write.done.set_exception(exc)
            return
        results: list[tuple[_Write, Any, BaseException | None]] = []
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                for write in batch:
                    savepoint = session.begin_nested()
                    try:
                        result = write.work(session)
                        savepoint.commit()
                        results.append((write, result, None))
                    except BaseException as exc:
                        savepoint.rollback()
                        results.append((write, None, exc))
                session.commit()
        except BaseException as exc:  # the commit itself failed: none of them happened
            for write in batch:
                if not write.done.done():
                    write.done.set_exception(exc)
            return
        for write, result, error in results:
            if error is not None:
                write.done.set_exception(error)
            else:
                write.done.set_result(result)

    async def try_lock_async(self, name: str) -> HeldLock | None:
        """`try_lock` from the event loop, on a thread only when it asks the database (every
        tick takes the lock: on SQLite that costs nothing)."""
        if self.engine.dialect.name != "postgresql":
            return HeldLock(None, 0)
        return await asyncio.to_thread(self.try_lock, name)

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
        self._readers.shutdown(wait=True)
        self._writers.shutdown(wait=True)
        self.engine.dispose()
