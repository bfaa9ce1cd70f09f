"""What the admin summary and the export read: plain rows, one query each, per workspace.

Pulse ratings come from storage/pulse.py (`ratings_in_period`, `response_counts_by_pair`).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session, col, select

from storage import program
from storage.models import (
    AgreementItemAnswer,
    HeldSession,
    OutcomeAnswer,
    Pair,
    Participant,
    PromptSent,
)


def people(*, session: Session, team_id: str) -> list[tuple[str, str, str]]:
    """(user_id, role, status) of everyone who ever signed up."""
    rows = session.exec(
        select(Participant.user_id, Participant.role, Participant.status).where(
            Participant.team_id == team_id
        )
    ).all()
    return [(user_id, role, status) for user_id, role, status in rows]


def all_pairs(*, session: Session, team_id: str) -> list[Pair]:
    return list(
        session.exec(select(Pair).where(Pair.team_id == team_id).order_by(col(Pair.id))).all()
    )


def held_sessions(*, session: Session, team_id: str) -> list[tuple[int, date]]:
    """(pair_id, held_on) of every session logged in the workspace."""
    rows = session.exec(
        select(col(HeldSession.pair_id), col(HeldSession.held_on)).where(
            HeldSession.team_id == team_id
        )
    ).all()
    return [(pair_id, held_on) for pair_id, held_on in rows]


def prompts_sent_between(
    *, session: Session, team_id: str, start: datetime, end: datetime
) -> list[str]:
    """The ids of the prompts sent in [start, end), one entry per sending."""
    return list(
        session.exec(
            select(PromptSent.prompt_id).where(
                PromptSent.team_id == team_id,
                col(PromptSent.sent_at) >= start,
                col(PromptSent.sent_at) < end,
            )
        ).all()
    )


def outcome_answers(
    *, session: Session, team_id: str, cohort_id: int | None = None
) -> list[tuple[str, str, str | None, str | None]]:
    """(user_id, checkpoint, progress, change) of every outcome answer (of one cohort)."""
    query = select(
        OutcomeAnswer.user_id,
        OutcomeAnswer.checkpoint,
        OutcomeAnswer.progress,
        OutcomeAnswer.change,
    ).where(OutcomeAnswer.team_id == team_id)
    if cohort_id is not None:
        query = query.where(OutcomeAnswer.cohort_id == cohort_id)
    rows = session.exec(query).all()
    return [
        (user_id, checkpoint, progress, change) for user_id, checkpoint, progress, change in rows
    ]


def item_answers(
    *, session: Session, team_id: str, cohort_id: int | None = None
) -> list[tuple[str, str, str, str, str]]:
    """(user_id, mentor_id, mentee_id, checkpoint, progress) of every agreement item answer
    (of one cohort), with the pair it was given in (which says whose side of the agreement it
    was about)."""
    query = (
        select(AgreementItemAnswer, Pair)
        .join(Pair, col(Pair.id) == col(AgreementItemAnswer.pair_id))
        .where(AgreementItemAnswer.team_id == team_id)
    )
    if cohort_id is not None:
        query = query.where(AgreementItemAnswer.cohort_id == cohort_id)
    rows = session.exec(query).all()
    return [
        (answer.user_id, pair.mentor_id, pair.mentee_id, answer.checkpoint, answer.progress)
        for answer, pair in rows
    ]


def set_summary_due(*, session: Session, team_id: str, due_at: datetime) -> None:
    row = program.schedule_of(session=session, team_id=team_id)
    row.summary_due_at = due_at
    session.add(row)


def record_summary_posted(*, session: Session, team_id: str, at: datetime) -> None:
    row = program.schedule_of(session=session, team_id=team_id)
    row.last_summary_at = at
    session.add(row)
