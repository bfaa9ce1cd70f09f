"""Alembic's env.py, run by every Alembic command storage/migrations.py gives.

It migrates the connection the caller passes in (config.attributes["connection"]), inside the
caller's transaction: the one that holds the migration lock, so Alembic opens and commits no
transaction of its own here. There is no offline (--sql) mode.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection, TypeDecorator
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations through storage.migrations, which passes a connection")


def render_item(kind: str, item: Any, _context: AutogenContext) -> str | Literal[False]:
    """A new revision names plain SQLAlchemy types: the models' own (SQLModel's AutoString,
    storage.models.UTCDateTime) wrap String and DateTime, and a revision must not change when
    the models' code does."""
    if kind == "type" and isinstance(item, TypeDecorator):
        return f"sa.{type(item.impl_instance).__name__}()"
    return False


context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    # New revisions alter tables in batches: SQLite can only change most things about a
    # column by copying its table, and the batch does that there (and plain ALTERs elsewhere).
    render_as_batch=True,
    compare_type=True,
    # True on SQLite too, where Alembic assumes otherwise: storage.db's engine issues its own
    # BEGIN (the driver no longer commits before DDL), so SQLite's DDL is transactional.
    transactional_ddl=True,
    render_item=render_item,
)
with context.begin_transaction():
    context.run_migrations()
