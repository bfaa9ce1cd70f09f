"""Pair repository. A pair is live from its proposal until it ends; ended pairs are history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CompoundSelect, bindparam, union_all
from sqlmodel import Session, col, func, or_, select

from storage import rhythm
from storage.models import Pair, PairCohort, saved_id

LIVE = ("introducing", "active", "paused", "intro_failed")


def live_pairs(*, session: Session, team_id: str) -> list[Pair]:
    return list(
        session.exec(
            select(Pair)
            .where(Pair.team_id == team_id, col(Pair.status).in_(LIVE))
            .order_by(col(Pair.id))
        ).all()
    )


def ids_of_pairs_with(team_id: Any, user_id: Any) -> CompoundSelect[Any]:
    """The IDs of someone's pairs, on either side, through ix_pair_mentor and ix_pair_mentee:
    for `mentor_id = ? OR mentee_id = ?`, SQLite reads every pair of the workspace instead."""
    return union_all(
        select(Pair.id).where(col(Pair.team_id) == team_id, col(Pair.mentor_id) == user_id),
        select(Pair.id).where(col(Pair.team_id) == team_id, col(Pair.mentee_id) == user_id),
    )


# Built once, values bound when run: building a statement costs SQLAlchemy more than running
# it, and status and Home ask this for every request.
_LIVE_PAIRS_OF = (
    select(Pair)
    .where(
        col(Pair.id).in_(ids_of_pairs_with(bindparam("team_id"), bindparam("user_id"))),
        col(Pair.status).in_(LIVE),
    )
    .order_by(col(Pair.id))
)


def live_pairs_of(*, session: Session, team_id: str, user_id: str) -> list[Pair]:
    return list(session.exec(_LIVE_PAIRS_OF, params={"team_id": team_id, "user_id": user_id}).all())


def live_pair_between(*, session: Session, team_id: str, a: str, b: str) -> Pair | None:
    return session.exec(
        select(Pair).where(
            Pair.team_id == team_id,
            col(Pair.status).in_(LIVE),
            or_(
                (Pair.mentor_id == a) & (Pair.mentee_id == b),
                (Pair.mentor_id == b) & (Pair.mentee_id == a),
            ),
        )
    ).first()


def pair_in_channel(*, session: Session, team_id: str, channel_id: str) -> Pair | None:
    """The live pair whose group DM this is."""
    return session.exec(
        select(Pair).where(
            Pair.team_id == team_id, Pair.dm_channel_id == channel_id, col(Pair.status).in_(LIVE)
        )
    ).first()


def get_pair(*, session: Session, team_id: str, pair_id: int) -> Pair | None:
    pair = session.get(Pair, pair_id)
    return pair if pair is not None and pair.team_id == team_id else None


def load_pairs(*, session: Session, pair_ids: set[int]) -> list[Pair]:
    """Read these pairs in one statement; while the caller holds the list, `get_pair` finds
    them in the session without reading again."""
    if not pair_ids:
        return []
    return list(session.exec(select(Pair).where(col(Pair.id).in_(sorted(pair_ids)))).all())


def past_pairs(*, session: Session, team_id: str) -> set[frozenset[str]]:
    """Every pair there has ever been, so a re-match never repeats one."""
    rows = session.exec(select(Pair.mentor_id, Pair.mentee_id).where(Pair.team_id == team_id)).all()
    return {frozenset(row) for row in rows}


def create_pair(
    *,
    session: Session,
    team_id: str,
    mentor_id: str,
    mentee_id: str,
    score: float,
    explanation: str,
    now: datetime,
    cohort_id: int | None = None,
) -> Pair:
    """Store a new pair (introducing it is the pairing feature's decision)."""
    pair = Pair(
        team_id=team_id,
        cohort_id=cohort_id,
        mentor_id=mentor_id,
        mentee_id=mentee_id,
        score=score,
        explanation=explanation,
        created_at=now,
        updated_at=now,
    )
    session.add(pair)
    session.flush()
    if cohort_id is not None:
        session.add(PairCohort(pair_id=saved_id(pair), cohort_id=cohort_id, team_id=team_id))
    return pair


def mark_introduced(
    *, session: Session, pair_id: int, channel_id: str, ts: str, now: datetime
) -> Pair | None:
    """The pair is live in Slack; returns it when this call made it so."""
    pair = session.get(Pair, pair_id)
    if pair is None or pair.status not in ("introducing", "intro_failed"):
        return None
    pair.status, pair.dm_channel_id, pair.intro_ts, pair.updated_at = "active", channel_id, ts, now
    session.add(pair)
    return pair


def remember_channel(*, session: Session, pair_id: int, channel_id: str, now: datetime) -> None:
    pair = session.get(Pair, pair_id)
    if pair is not None and pair.dm_channel_id != channel_id:
        pair.dm_channel_id, pair.updated_at = channel_id, now
        session.add(pair)


def mark_intro_failed(*, session: Session, pair_id: int, now: datetime) -> Pair | None:
    pair = session.get(Pair, pair_id)
    if pair is not None and pair.status == "introducing":
        pair.status, pair.updated_at = "intro_failed", now
        session.add(pair)
    return pair


def end_pair(*, session: Session, pair: Pair, reason: str, now: datetime) -> bool:
    """End a live pair; False if it had already ended."""
    if pair.status not in LIVE:
        return False
    pair.status, pair.end_reason, pair.ended_at, pair.updated_at = "ended", reason, now, now
    # Ended pairs must leave the due indexes, or every tick would step over them forever.
    rhythm.clear_dues(pair)
    session.add(pair)
    return True


def count_live(*, session: Session, team_id: str) -> int:
    return session.exec(
        select(func.count())
        .select_from(Pair)
        .where(Pair.team_id == team_id, col(Pair.status).in_(LIVE))
    ).one()
