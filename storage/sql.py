"""The statements whose SQL differs between database dialects, written once: inserting a row
unless its unique key exists, and inserting or replacing one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects.sqlite import insert
from sqlmodel import Session, SQLModel


def insert_new(session: Session, model: type[SQLModel], **values: Any) -> bool:
    """Insert a row unless one with the same unique key exists; True when it was inserted
    (so a decision made twice, or a retried event, is recorded once)."""
    statement = insert(model).values(**values).on_conflict_do_nothing()
    return session.exec(statement).rowcount == 1


def upsert(
    session: Session,
    model: type[SQLModel],
    *,
    keys: Sequence[str],
    replace: Sequence[str],
    **values: Any,
) -> None:
    """Insert a row, or (when one with the same `keys` exists) replace its `replace` fields."""
    statement = insert(model).values(**values)
    session.exec(
        statement.on_conflict_do_update(
            index_elements=list(keys),
            set_={name: statement.excluded[name] for name in replace},
        )
    )
