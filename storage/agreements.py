"""Learning agreements: a pair's saved items, read and written whole (they decide nothing)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, col, select

from storage.models import LearningAgreement
from storage.pairs import ids_of_pairs_with


def agreement_of(*, session: Session, team_id: str, pair_id: int) -> LearningAgreement | None:
    return session.exec(
        select(LearningAgreement).where(
            LearningAgreement.team_id == team_id, LearningAgreement.pair_id == pair_id
        )
    ).first()


def save_agreement(
    *,
    session: Session,
    team_id: str,
    pair_id: int,
    leader_items: Sequence[str],
    junior_items: Sequence[str],
    updated_by: str,
    now: datetime,
) -> LearningAgreement:
    """Create a pair's agreement or replace its items, counting the save; returns the row."""
    row = agreement_of(session=session, team_id=team_id, pair_id=pair_id)
    if row is None:
        row = LearningAgreement(
            team_id=team_id, pair_id=pair_id, updated_by=updated_by, updated_at=now
        )
    row.leader_items = list(leader_items)
    row.junior_items = list(junior_items)
    row.saves += 1
    row.updated_by = updated_by
    row.updated_at = now
    session.add(row)
    session.flush()
    return row


def delete_agreements_of(*, session: Session, team_id: str, user_id: str) -> None:
    """The agreements of every pair someone was in (for leaving: the items are theirs too)."""
    theirs = ids_of_pairs_with(team_id, user_id)
    session.execute(
        delete(LearningAgreement).where(
            col(LearningAgreement.team_id) == team_id, col(LearningAgreement.pair_id).in_(theirs)
        )
    )
