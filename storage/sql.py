"""The statements whose SQL differs between database dialects, written once: inserting a row
unless its unique key exists, and inserting or replacing one (SQLite and PostgreSQL both say
INSERT ... ON CONFLICT, through their own SQLAlchemy constructs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import literal_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def insert_statement(session: Session, model: type[SQLModel]) -> Any:
    """The dialect's INSERT for `model`, which has on_conflict_do_nothing/do_update."""
    module = postgresql if dialect(session) == "postgresql" else sqlite
    return module.insert(model)


def insert_new(session: Session, model: type[SQLModel], **values: Any) -> bool:
    """Insert a row unless one with the same unique key exists; True when it was inserted
    (so a decision made twice, or a retried event, is recorded once)."""
    statement = insert_statement(session, model).values(**values).on_conflict_do_nothing()
    if dialect(session) == "postgresql":
        # SQLAlchemy adds its own RETURNING id there (for inserted_primary_key), and psycopg's
        # rowcount is then -1: every insert looked like a duplicate. Ask for a row instead;
        # none comes back when the key existed.
        returned = session.connection().execute(statement.returning(literal_column("1")))
        return returned.first() is not None
    inserted: int = session.exec(statement).rowcount
    return inserted == 1


def upsert(
    session: Session,
    model: type[SQLModel],
    *,
    keys: Sequence[str],
    replace: Sequence[str],
    **values: Any,
) -> None:
    """Insert a row, or (when one with the same `keys` exists) replace its `replace` fields."""
    statement = insert_statement(session, model).values(**values)
    session.exec(
        statement.on_conflict_do_update(
            index_elements=list(keys),
            set_={name: statement.excluded[name] for name in replace},
        )
    )
