"""Slack events received: the de-duplication ledger, and the durable record of each event
until its effect has been applied.

An event is recorded when it arrives (the record is the claim: a retried delivery finds it).
Its effect is applied in one transaction with marking it done, so it is applied once; if
applying fails, the record stays pending and a retry or the next tick applies it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, update
from sqlmodel import Session, col, func, select

from storage.models import ProcessedEvent, UTCDateTime
from storage.sql import insert_new


def record_event(
    *,
    session: Session,
    team_id: str,
    event_id: str,
    event_type: str | None,
    payload: dict[str, Any] | None,
    now: datetime,
    done: bool,
) -> str:
    """Record an arriving event: "new" the first time, else "done" (applied already) or
    "pending" (recorded, not applied: a retry should apply it). `done` records an event
    that has no stored effect (nothing to apply later) as applied at once."""
    if insert_new(
        session,
        ProcessedEvent,
        team_id=team_id,
        event_id=event_id,
        received_at=now,
        event_type=event_type,
        payload=None if done else payload,
        done_at=now if done else None,
        attempts=0,
    ):
        return "new"
    done_at = session.exec(
        select(ProcessedEvent.done_at).where(
            ProcessedEvent.team_id == team_id, ProcessedEvent.event_id == event_id
        )
    ).first()
    return "pending" if done_at is None else "done"


def claim_event(*, session: Session, team_id: str, event_id: str, now: datetime) -> bool:
    """Record an event ID as handled; False when it was already recorded."""
    state = record_event(
        session=session,
        team_id=team_id,
        event_id=event_id,
        event_type=None,
        payload=None,
        now=now,
        done=True,
    )
    return state == "new"


def mark_applied(*, session: Session, team_id: str, event_id: str, now: datetime) -> bool:
    """In the transaction that applies the event: True for the one that gets to apply it."""
    statement = (
        update(ProcessedEvent)
        .where(
            col(ProcessedEvent.team_id) == team_id,
            col(ProcessedEvent.event_id) == event_id,
            col(ProcessedEvent.done_at).is_(None),
        )
        .values(done_at=now, payload=None)
        .execution_options(synchronize_session=False)
    )
    return session.exec(statement).rowcount == 1


def note_failure(*, session: Session, team_id: str, event_id: str) -> int:
    """Applying it failed: count the attempt (it stays pending); returns the attempts so far."""
    session.execute(
        update(ProcessedEvent)
        .where(col(ProcessedEvent.team_id) == team_id, col(ProcessedEvent.event_id) == event_id)
        .values(attempts=ProcessedEvent.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    attempts = session.exec(
        select(ProcessedEvent.attempts).where(
            ProcessedEvent.team_id == team_id, ProcessedEvent.event_id == event_id
        )
    ).first()
    return attempts or 0


def give_up(*, session: Session, team_id: str, event_id: str, now: datetime) -> None:
    """Stop trying an event that keeps failing; it stays recorded so retries are ignored."""
    mark_applied(session=session, team_id=team_id, event_id=event_id, now=now)


def pending_events(
    *, session: Session, received_before: datetime, limit: int = 200
) -> list[ProcessedEvent]:
    """Recorded events not applied yet (their handler failed or the process died), oldest
    first, through the partial index ix_processed_event_pending."""
    return list(
        session.exec(
            select(ProcessedEvent)
            .where(
                col(ProcessedEvent.done_at).is_(None),
                col(ProcessedEvent.received_at) <= received_before,
            )
            .order_by(col(ProcessedEvent.received_at))
            .limit(limit)
        ).all()
    )


def release_event(*, session: Session, team_id: str, event_id: str) -> None:
    """Forget an event entirely, so a retry is taken as new."""
    session.execute(
        delete(ProcessedEvent).where(
            col(ProcessedEvent.team_id) == team_id, col(ProcessedEvent.event_id) == event_id
        )
    )


def oldest_pending(*, session: Session) -> datetime | None:
    """When the oldest event not applied yet was received (None: every event is applied)."""
    return session.exec(_OLDEST_PENDING).one()


_OLDEST_PENDING = select(func.min(col(ProcessedEvent.received_at))).where(
    col(ProcessedEvent.done_at).is_(None)
)


def purge_events(*, session: Session, older_than: datetime) -> int:
    """Slack stops retrying within hours; older records only take space."""
    result = session.exec(_PURGE, params={"older_than": older_than})
    return result.rowcount


_PURGE = delete(ProcessedEvent).where(  # built once: every tick purges
    col(ProcessedEvent.received_at) < bindparam("older_than", type_=UTCDateTime())
)
