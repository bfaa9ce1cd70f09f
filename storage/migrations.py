"""Schema migrations with Alembic, on SQLite and PostgreSQL.

The revisions live in storage/alembic/versions; Alembic is configured here, in code, so the
installed package needs no alembic.ini. `migrate()` (run at start-up by Database.prepare()
and by `reverse-mentor migrate`) applies the pending ones, all in one transaction that holds
the migration lock, so two processes starting at once cannot both migrate:

- SQLite: the transaction starts with BEGIN IMMEDIATE (storage.db does that for every
  transaction), which takes the file's write lock before anything is read. A second migrator
  waits for it (up to WAIT_FOR_LOCK_MS), then finds the file at head and does nothing.
- PostgreSQL: the transaction first takes a transaction-level advisory lock
  (pg_advisory_xact_lock), released by its commit or rollback, or if the connection dies.
  DDL is transactional there too.

The lock is taken before Alembic runs, so it also keeps two migrations in one process (say,
two threads) apart: Alembic's `op` and `context` are module-level, one per process.

Either way a failed revision rolls back every revision of the run: the database stays where
it was. A SQLite file made by the older numbered steps (storage/legacy_migrations.py: a
PRAGMA user_version from 1 to 6 and no alembic_version table) is adopted in the same
transaction: the steps it lacks run, it is stamped at FIRST_REVISION (which creates exactly
what they create), then the later revisions run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import OperationalError

from storage import legacy_migrations

log = logging.getLogger(__name__)

SCRIPTS = Path(__file__).with_name("alembic")
# The revision that creates what the legacy steps 1-6 create; a legacy file is stamped here.
FIRST_REVISION = "0001"
VERSION_TABLE = "alembic_version"
# Any fixed 64-bit number, the same in every process: the advisory lock the migrators share.
POSTGRESQL_LOCK_KEY = 0x526D_4D69_6772_6174  # "RmMigrat"
# How long a SQLite migrator waits for another to finish (the usual busy timeout is shorter).
WAIT_FOR_LOCK_MS = 300_000


class MigrationError(RuntimeError):
    """The database cannot be brought to this code's schema; the message says why."""


@dataclass(frozen=True)
class Migration:
    """Where a migration found the database and where it left it."""

    before: str | None  # the Alembic revision it was at; None: none yet
    after: str
    # An adopted SQLite file: the legacy step (PRAGMA user_version) it was at.
    legacy_version: int | None = None

    @property
    def changed(self) -> bool:
        return self.before != self.after or self.legacy_version is not None


def alembic_config(connection: Connection | None = None, *, scripts: Path = SCRIPTS) -> Config:
    """Alembic's configuration, without an alembic.ini; storage/alembic/env.py migrates
    `connection` in the transaction it is in."""
    config = Config()
    config.set_main_option("script_location", str(scripts))
    # New revision files are named 0002_what_changes.py ("%%" escapes the ini interpolation).
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["connection"] = connection
    return config


def head_revision(*, scripts: Path = SCRIPTS) -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory.from_config(alembic_config(scripts=scripts)).get_current_head()
    if head is None:
        raise MigrationError(f"no Alembic revisions in {scripts / 'versions'}")
    return head


def current_revision(conn: Connection) -> str | None:
    """The revision the database is at (None: Alembic has not migrated it). Read directly,
    not through a MigrationContext, whose every start logs its dialect at INFO."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    revisions = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(revisions) > 1:
        raise MigrationError(f"the database is at several revisions at once: {revisions}")
    return revisions[0] if revisions else None


def migrate(engine: Engine, *, scripts: Path = SCRIPTS) -> Migration:
    """Bring the database to the newest revision, under the migration lock."""
    with _migration_transaction(engine) as conn:
        config = alembic_config(conn, scripts=scripts)
        before = current_revision(conn)
        if before is not None and not _knows(config, before):
            raise MigrationError(
                f"the database is at revision {before}, which this code does not know: a newer "
                "version of the bot has migrated it; run that version (or a newer one)"
            )
        legacy_version = _adopt_legacy_file(conn, config)
        command.upgrade(config, "head")
        after = current_revision(conn)
        if after is None:
            raise MigrationError(f"no Alembic revisions in {scripts / 'versions'}")
        migration = Migration(before=before, after=after, legacy_version=legacy_version)
        if migration.changed and conn.dialect.name == "sqlite":
            _check_foreign_keys(conn)
    if migration.changed:
        log.info("database migrated from %s to revision %s", describe_before(migration), after)
    return migration


def _knows(config: Config, revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(config).get_revision(revision) is not None
    except CommandError:
        return False


def describe_before(migration: Migration) -> str:
    """Where the database was, in words: for the log and `reverse-mentor migrate`."""
    if migration.legacy_version is not None:
        return f"legacy version {migration.legacy_version} (PRAGMA user_version)"
    return "an empty database" if migration.before is None else f"revision {migration.before}"


def _adopt_legacy_file(conn: Connection, config: Config) -> int | None:
    """A SQLite file the legacy steps made: finish those steps and stamp it at
    FIRST_REVISION; returns the step it was at. None for any other database."""
    if conn.dialect.name != "sqlite" or inspect(conn).has_table(VERSION_TABLE):
        return None
    version = legacy_migrations.user_version(conn)
    if version == 0:
        return None
    if version > legacy_migrations.LATEST_VERSION:
        raise MigrationError(
            f"the database is at legacy version {version} (PRAGMA user_version), but the legacy "
            f"steps end at {legacy_migrations.LATEST_VERSION}: it was made by other code"
        )
    legacy_migrations.apply(conn, version)
    command.stamp(config, FIRST_REVISION)
    log.info("adopted a database at legacy version %d: stamped %s", version, FIRST_REVISION)
    return version


@contextmanager
def _migration_transaction(engine: Engine) -> Iterator[Connection]:
    """One connection in one transaction that holds the migration lock; commits on success."""
    with _connect(engine) as conn:
        if conn.dialect.name == "sqlite":
            with _sqlite_migration_connection(conn):
                with conn.begin():  # BEGIN IMMEDIATE: the write lock, before anything is read
                    yield conn
        else:
            with conn.begin():
                conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": POSTGRESQL_LOCK_KEY}
                )
                yield conn


def _connect(engine: Engine) -> Connection:
    """A connection, waiting out the one collision SQLite does not wait for itself: on a new
    file, while one process's first connection turns it to WAL, another's PRAGMA journal_mode
    (storage.db) fails at once with "database is locked", busy timeout or not. Two processes
    starting together on a new file meet exactly there, in this function."""
    deadline = time.monotonic() + WAIT_FOR_LOCK_MS / 1000
    while True:
        try:
            return engine.connect()
        except OperationalError as exc:
            locked = engine.dialect.name == "sqlite" and "database is locked" in str(exc.orig)
            if not locked or time.monotonic() > deadline:
                raise
        time.sleep(0.05)


@contextmanager
def _sqlite_migration_connection(conn: Connection) -> Iterator[None]:
    """Settings for the migration's connection, made before its transaction begins (SQLite
    ignores them inside one). It waits longer for the write lock than other writers do, and
    checks foreign keys itself, at the end: a revision that copies a table, as Alembic's batch
    mode does, drops the original in between (https://sqlite.org/lang_altertable.html). The
    connection is thrown away afterwards, so no other work gets these settings."""
    driver: Any = conn.connection.driver_connection
    try:
        driver.execute(f"PRAGMA busy_timeout = {int(WAIT_FOR_LOCK_MS)}")
        driver.execute("PRAGMA foreign_keys = OFF")
        yield
    finally:
        conn.invalidate()


def _check_foreign_keys(conn: Connection) -> None:
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        table, _rowid, parent, _key = broken[0]
        raise MigrationError(
            f"the migration would leave {len(broken)} rows pointing at missing rows "
            f"(the first in {table}, pointing at {parent}): nothing was changed"
        )
