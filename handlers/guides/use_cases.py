"""Preparation guides: deciding, when someone is matched, that they get their guide.

A junior mentor gets the junior guide and a leader the leader's, each once per person per
cohort (the outbox key `guide:{user_id}:{cohort_id}` makes a second decision a no-op, so a
junior with two leaders, or re-matched in the same cohort, gets one), unless the admins
turned the guides off. Deciding happens in the transaction that creates the pair."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from storage import outbox as rows
from storage import program
from storage.models import Pair

KIND = "guide"
JUNIOR = "junior"  # the pair's mentor
LEADER = "leader"  # the one the pair mentors


def guide_key(user_id: str, cohort_id: int | None) -> str:
    return f"guide:{user_id}:{cohort_id if cohort_id is not None else 'program'}"


def decide_guides(session: Session, *, pair: Pair, now: datetime) -> int:
    """A new pair: each of the two gets their guide, unless they already did in this cohort
    or the admins turned the guides off. Returns how many were decided now."""
    settings = program.get_program_settings(
        session=session, team_id=pair.team_id, cohort_id=pair.cohort_id
    )
    if not settings.send_guides:
        return 0
    decided = 0
    for user_id, audience in ((pair.mentor_id, JUNIOR), (pair.mentee_id, LEADER)):
        decided += rows.enqueue(
            session=session,
            team_id=pair.team_id,
            key=guide_key(user_id, pair.cohort_id),
            kind=KIND,
            payload={"user": user_id, "audience": audience},
            now=now,
        )
    return decided
