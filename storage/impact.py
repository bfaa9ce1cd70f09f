"""What a cohort's impact report reads: plain rows for the pairs and people of one cohort."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

from sqlmodel import Session, col, select

from storage.models import (
    AgreementItemAnswer,
    HeldSession,
    OutcomeAnswer,
    Pair,
    Participant,
    PulseResponse,
    PulseSurvey,
)


def roles_and_statuses(
    *, session: Session, team_id: str, users: Collection[str]
) -> dict[str, tuple[str, str]]:
    """user_id -> (role, status) for these people."""
    rows = session.exec(
        select(Participant.user_id, Participant.role, Participant.status).where(
            Participant.team_id == team_id, col(Participant.user_id).in_(list(users))
        )
    ).all()
    return {user: (role, status) for user, role, status in rows}


def sessions_held(*, session: Session, pair_ids: Collection[int]) -> list[tuple[int, date]]:
    rows = session.exec(
        select(col(HeldSession.pair_id), col(HeldSession.held_on)).where(
            col(HeldSession.pair_id).in_(list(pair_ids))
        )
    ).all()
    return [(pair_id, held_on) for pair_id, held_on in rows]


def ratings(*, session: Session, pair_ids: Collection[int]) -> list[tuple[str, datetime, int]]:
    """(user_id, when, rating) of every current pulse response in these pairs' surveys. Who
    answered is there to count different people; never show it with a rating."""
    rows = session.exec(
        select(col(PulseResponse.user_id), col(PulseResponse.updated_at), col(PulseResponse.rating))
        .join(PulseSurvey, col(PulseSurvey.id) == col(PulseResponse.survey_id))
        .where(col(PulseSurvey.pair_id).in_(list(pair_ids)))
    ).all()
    return [(user, when, rating) for user, when, rating in rows]


def end_answers(*, session: Session, cohort_id: int) -> list[OutcomeAnswer]:
    return list(
        session.exec(
            select(OutcomeAnswer).where(
                OutcomeAnswer.cohort_id == cohort_id, OutcomeAnswer.checkpoint == "end"
            )
        ).all()
    )


def end_item_answers(*, session: Session, cohort_id: int) -> list[tuple[str, bool, str]]:
    """(user_id, answered as the pair's leader, progress) of every agreement item answer at
    the cohort's end."""
    rows = session.exec(
        select(AgreementItemAnswer, Pair)
        .join(Pair, col(Pair.id) == col(AgreementItemAnswer.pair_id))
        .where(AgreementItemAnswer.cohort_id == cohort_id, AgreementItemAnswer.checkpoint == "end")
    ).all()
    return [
        (answer.user_id, answer.user_id == pair.mentee_id, answer.progress) for answer, pair in rows
    ]
