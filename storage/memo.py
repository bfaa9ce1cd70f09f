"""Reads remembered for a read-only stretch of one transaction (opt-in, `remembering`).

A sender checking a batch of messages asks the same questions many times (a pair's people,
a workspace's settings); inside `remembering(session)` each answer is read once, or loaded
for the whole batch up front (`remember`), and forgotten when the stretch ends, before
anything is written. Outside it every read goes to the database as usual."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlmodel import Session

T = TypeVar("T")
_KEY = "remembered_reads"


@contextmanager
def remembering(session: Session) -> Iterator[None]:
    """Within: reads through `recall` are read once. Write nothing in it (answers would not
    see the write); leaving it forgets them all."""
    session.info[_KEY] = {}
    try:
        yield
    finally:
        session.info.pop(_KEY, None)


def is_remembering(session: Session) -> bool:
    return _KEY in session.info


def recall(session: Session, key: Hashable, read: Callable[[], T]) -> T:
    """`read()`'s answer, read once while remembering (else read every time)."""
    memo: dict[Hashable, Any] | None = session.info.get(_KEY)
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    answer: T = memo[key]
    return answer


def remember(session: Session, key: Hashable, answer: object) -> None:
    """Store an answer loaded in bulk (no-op when not remembering)."""
    memo: dict[Hashable, Any] | None = session.info.get(_KEY)
    if memo is not None:
        memo[key] = answer
