"""Processed Slack event IDs: the de-duplication ledger for retried deliveries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects.sqlite import insert
from sqlmodel import Session

from storage.models import ProcessedEvent


def claim_event(*, session: Session, team_id: str, event_id: str, now: datetime) -> bool:
    """Record an event ID; False when it was already recorded (a retry of one we applied)."""
    result = session.execute(
        insert(ProcessedEvent)
        .values(team_id=team_id, event_id=event_id, received_at=now)
        .on_conflict_do_nothing()
    )
    return result.rowcount == 1


def release_event(*, session: Session, team_id: str, event_id: str) -> None:
    """Forget an event whose handling failed, so Slack's retry can apply it."""
    session.execute(
        delete(ProcessedEvent).where(
            ProcessedEvent.team_id == team_id, ProcessedEvent.event_id == event_id
        )
    )


def purge_events(*, session: Session, older_than: datetime) -> int:
    """Slack stops retrying within hours; older IDs only take space."""
    result = session.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < older_than))
    return result.rowcount
