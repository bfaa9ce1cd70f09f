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


# Built once per table and dialect, values bound at execution: SQLAlchemy then neither
# rebuilds the statement nor recomputes its cache key, and a Table (not the ORM class) skips
# the ORM's bulk-insert layer (Session.execute still writes what the session holds first).
# These run once or more for every event and every message.
_BUILT: dict[tuple[object, ...], Any] = {}


def _table_insert(model: type[SQLModel], dialect_name: str) -> Any:
    module = postgresql if dialect_name == "postgresql" else sqlite
    return module.insert(model.__table__)  # type: ignore[attr-defined]  # SQLModel adds it


def _insert_new_statement(model: type[SQLModel], dialect_name: str) -> Any:
    key = ("insert_new", model, dialect_name)
    if key not in _BUILT:
        statement = _table_insert(model, dialect_name).on_conflict_do_nothing()
        if dialect_name == "postgresql":
            # SQLAlchemy would add its own RETURNING id there (for inserted_primary_key), and
            # psycopg's rowcount is then -1: every insert looked like a duplicate. Ask for a
            # row instead; none comes back when the key existed.
            statement = statement.returning(literal_column("1"))
        _BUILT[key] = statement
    return _BUILT[key]


def _upsert_statement(
    model: type[SQLModel], dialect_name: str, keys: tuple[str, ...], replace: tuple[str, ...]
) -> Any:
    key = ("upsert", model, dialect_name, keys, replace)
    if key not in _BUILT:
        statement = _table_insert(model, dialect_name)
        _BUILT[key] = statement.on_conflict_do_update(
            index_elements=list(keys),
            set_={name: statement.excluded[name] for name in replace},
        )
    return _BUILT[key]


def insert_new(session: Session, model: type[SQLModel], **values: Any) -> bool:
    """Insert a row unless one with the same unique key exists; True when it was inserted
    (so a decision made twice, or a retried event, is recorded once)."""
    name = dialect(session)
    result = session.execute(_insert_new_statement(model, name), values)
    if name == "postgresql":
        return result.first() is not None
    inserted: int = result.rowcount  # type: ignore[attr-defined]
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
    statement = _upsert_statement(model, dialect(session), tuple(keys), tuple(replace))
    session.execute(statement, values)
