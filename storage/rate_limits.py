"""Slack's rate limits as every instance sees them: a 429's Retry-After, per workspace and
method, written by whichever instance was told and read by all of them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case
from sqlmodel import Session, col, select

from storage.models import SlackRateLimit
from storage.sql import insert_statement


def hold(*, session: Session, team_id: str, method: str, until: datetime) -> None:
    """Record that `method` is not to be called for `team_id` before `until`. A later hold
    already recorded (another instance's longer Retry-After) stays."""
    statement = insert_statement(session, SlackRateLimit).values(
        team_id=team_id, method=method, until_at=until
    )
    later = case(
        (statement.excluded.until_at > SlackRateLimit.until_at, statement.excluded.until_at),
        else_=SlackRateLimit.until_at,
    )
    session.exec(
        statement.on_conflict_do_update(
            index_elements=["team_id", "method"], set_={"until_at": later}
        )
    )


def holds_after(*, session: Session, now: datetime) -> dict[tuple[str, str], datetime]:
    """Every hold still in force at `now`: (team_id, method) -> until."""
    rows = session.exec(select(SlackRateLimit).where(col(SlackRateLimit.until_at) > now))
    return {(row.team_id, row.method): row.until_at for row in rows}
