"""Outcome answers: progress on one's own goal at each checkpoint, on each of one's own
learning-agreement items, and a leader's one change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from bot.outcomes import is_leader
from bot.profiles import Status
from storage.models import (
    AgreementItemAnswer,
    Cohort,
    LearningAgreement,
    OutcomeAnswer,
    Pair,
    PairCohort,
    Participant,
)
from storage.pairs import ids_of_pairs_with


def answers_for(
    *, session: Session, team_id: str, cohort_id: int | None = None
) -> list[OutcomeAnswer]:
    """Every answer in a workspace, or in one cohort (for the figures: read them only in
    aggregate)."""
    query = select(OutcomeAnswer).where(OutcomeAnswer.team_id == team_id)
    if cohort_id is not None:
        query = query.where(OutcomeAnswer.cohort_id == cohort_id)
    return list(session.exec(query.order_by(col(OutcomeAnswer.id))).all())


def answer_of(
    *, session: Session, team_id: str, cohort_id: int, user_id: str, checkpoint: str
) -> OutcomeAnswer | None:
    return session.exec(
        select(OutcomeAnswer).where(
            OutcomeAnswer.team_id == team_id,
            OutcomeAnswer.cohort_id == cohort_id,
            OutcomeAnswer.user_id == user_id,
            OutcomeAnswer.checkpoint == checkpoint,
        )
    ).first()


def _save(
    session: Session,
    *,
    team_id: str,
    cohort_id: int,
    user_id: str,
    checkpoint: str,
    now: datetime,
    **fields: Any,
) -> OutcomeAnswer:
    """Someone's answer for a cohort's checkpoint, created or updated with `fields`."""
    row = answer_of(
        session=session,
        team_id=team_id,
        cohort_id=cohort_id,
        user_id=user_id,
        checkpoint=checkpoint,
    )
    if row is None:
        row = OutcomeAnswer(
            team_id=team_id,
            cohort_id=cohort_id,
            user_id=user_id,
            checkpoint=checkpoint,
            answered_at=now,
        )
    row.answered_at = now
    for name, value in fields.items():
        setattr(row, name, value)
    session.add(row)
    session.flush()
    return row


def record_progress(
    *,
    session: Session,
    team_id: str,
    cohort_id: int,
    user_id: str,
    checkpoint: str,
    progress: str,
    now: datetime,
) -> OutcomeAnswer:
    """Store someone's progress answer; a later press replaces it (the change text stays)."""
    return _save(
        session,
        team_id=team_id,
        cohort_id=cohort_id,
        user_id=user_id,
        checkpoint=checkpoint,
        now=now,
        progress=progress,
    )


def record_change(
    *,
    session: Session,
    team_id: str,
    cohort_id: int,
    user_id: str,
    checkpoint: str,
    change: str | None,
    now: datetime,
) -> OutcomeAnswer:
    """Store (or clear, with None) a leader's change; their progress answer stays."""
    return _save(
        session,
        team_id=team_id,
        cohort_id=cohort_id,
        user_id=user_id,
        checkpoint=checkpoint,
        now=now,
        change=change,
    )


def agreed_pairs_of(
    *, session: Session, team_id: str, cohort_id: int, user_id: str
) -> list[tuple[Pair, LearningAgreement]]:
    """Every pair `user_id` is or was in during a cohort that has a learning agreement, with
    it, oldest first."""
    rows = session.exec(
        select(Pair, LearningAgreement)
        .join(LearningAgreement, col(LearningAgreement.pair_id) == col(Pair.id))
        .join(PairCohort, col(PairCohort.pair_id) == col(Pair.id))
        .where(
            Pair.team_id == team_id,
            LearningAgreement.team_id == team_id,
            PairCohort.cohort_id == cohort_id,
            col(Pair.id).in_(ids_of_pairs_with(team_id, user_id)),
        )
        .order_by(col(Pair.id))
    ).all()
    return [(pair, agreement) for pair, agreement in rows]


def item_answers_of(
    *, session: Session, team_id: str, cohort_id: int, user_id: str, checkpoint: str
) -> dict[tuple[int, int], str]:
    """Someone's item answers at a cohort's checkpoint: (pair_id, item_index) -> progress."""
    rows = session.exec(
        select(AgreementItemAnswer).where(
            AgreementItemAnswer.team_id == team_id,
            AgreementItemAnswer.cohort_id == cohort_id,
            AgreementItemAnswer.user_id == user_id,
            AgreementItemAnswer.checkpoint == checkpoint,
        )
    ).all()
    return {(row.pair_id, row.item_index): row.progress for row in rows}


def record_item_progress(
    *,
    session: Session,
    team_id: str,
    cohort_id: int,
    pair_id: int,
    user_id: str,
    checkpoint: str,
    item_index: int,
    progress: str,
    now: datetime,
) -> AgreementItemAnswer:
    """Store someone's answer about one agreement item; a later press replaces it."""
    row = session.exec(
        select(AgreementItemAnswer).where(
            AgreementItemAnswer.pair_id == pair_id,
            AgreementItemAnswer.cohort_id == cohort_id,
            AgreementItemAnswer.user_id == user_id,
            AgreementItemAnswer.checkpoint == checkpoint,
            AgreementItemAnswer.item_index == item_index,
        )
    ).first()
    if row is None:
        row = AgreementItemAnswer(
            team_id=team_id,
            cohort_id=cohort_id,
            pair_id=pair_id,
            user_id=user_id,
            checkpoint=checkpoint,
            item_index=item_index,
            progress=progress,
            answered_at=now,
        )
    row.progress = progress
    row.answered_at = now
    session.add(row)
    session.flush()
    return row


def delete_item_answers_of(*, session: Session, team_id: str, user_id: str) -> None:
    """Everything someone answered about agreement items (for leaving)."""
    session.execute(
        delete(AgreementItemAnswer).where(
            col(AgreementItemAnswer.team_id) == team_id,
            col(AgreementItemAnswer.user_id) == user_id,
        )
    )


def _introduced_pairs(session: Session, team_id: str, cohort_id: int) -> list[tuple[str, str]]:
    rows = session.exec(
        select(Pair.mentor_id, Pair.mentee_id).where(
            Pair.team_id == team_id,
            Pair.cohort_id == cohort_id,
            col(Pair.dm_channel_id).is_not(None),
        )
    ).all()
    return [(mentor, mentee) for mentor, mentee in rows]


def checkpoint_people(*, session: Session, team_id: str, cohort_id: int) -> list[tuple[str, bool]]:
    """Who a cohort's checkpoint asks: active participants who have taken part in one of its
    pairs (introduced), as (user_id, is_leader), in signup order."""
    pairs = _introduced_pairs(session, team_id, cohort_id)
    paired = {user for pair in pairs for user in pair}
    mentees = {mentee for _, mentee in pairs}
    if not paired:
        return []
    people = session.exec(
        select(Participant.user_id, Participant.role)
        .where(
            Participant.team_id == team_id,
            Participant.status == Status.ACTIVE,
            col(Participant.user_id).in_(paired),
        )
        .order_by(col(Participant.id))
    ).all()
    return [(user, is_leader(role, mentee_in_a_pair=user in mentees)) for user, role in people]


def is_leader_in(*, session: Session, team_id: str, user_id: str) -> bool:
    person = session.exec(
        select(Participant).where(Participant.team_id == team_id, Participant.user_id == user_id)
    ).first()
    if person is None or person.status == Status.LEFT:
        return False
    mentee = session.exec(
        select(Pair.id).where(
            Pair.team_id == team_id,
            Pair.mentee_id == user_id,
            col(Pair.dm_channel_id).is_not(None),
        )
    ).first()
    return is_leader(person.role, mentee_in_a_pair=mentee is not None)


def decided_flags(*, session: Session, team_id: str, cohort_id: int | None) -> tuple[bool, bool]:
    """Whether a cohort's midpoint and end have been decided."""
    row = session.get(Cohort, cohort_id) if cohort_id is not None else None
    if row is None or row.team_id != team_id:
        return False, False
    return row.midpoint_decided_at is not None, row.end_decided_at is not None
