"""Participant repository: keyword-only functions that take a session."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from bot.profiles import Profile, Status
from storage.memo import recall, remember
from storage.models import Participant

# Built once: the most frequent read of all.
_PARTICIPANT = select(Participant).where(
    Participant.team_id == bindparam("team_id"), Participant.user_id == bindparam("user_id")
)


def get_participant(*, session: Session, team_id: str, user_id: str) -> Participant | None:
    return recall(
        session,
        ("participant", team_id, user_id),
        lambda: session.exec(_PARTICIPANT, params={"team_id": team_id, "user_id": user_id}).first(),
    )


# Built once, values bound when run (see storage/pairs.py's _LIVE_PAIRS_OF).
_PARTICIPANTS_BY_ID = select(Participant).where(
    col(Participant.team_id) == bindparam("team_id"),
    col(Participant.user_id).in_(bindparam("user_ids", expanding=True)),
)


def participants_by_id(
    *, session: Session, team_id: str, user_ids: set[str]
) -> dict[str, Participant]:
    """These people's records, by user ID, read in one statement (absent: not signed up)."""
    if not user_ids:
        return {}
    found = session.exec(
        _PARTICIPANTS_BY_ID, params={"team_id": team_id, "user_ids": sorted(user_ids)}
    )
    return {person.user_id: person for person in found}


def remember_participants(*, session: Session, team_id: str, user_ids: set[str]) -> None:
    """Read these people in one statement for the reads remembered (storage/memo.py)."""
    if not user_ids:
        return
    found = participants_by_id(session=session, team_id=team_id, user_ids=user_ids)
    for user_id in user_ids:
        remember(session, ("participant", team_id, user_id), found.get(user_id))


def save_profile(
    *,
    session: Session,
    team_id: str,
    user_id: str,
    profile: Profile,
    timezone: str | None,
    title: str | None,
    now: datetime,
) -> tuple[Participant, bool]:
    """Create or edit a profile; returns (participant, created). Someone who left rejoins."""
    participant = get_participant(session=session, team_id=team_id, user_id=user_id)
    created = participant is None
    if participant is None:
        participant = Participant(
            team_id=team_id, user_id=user_id, role=profile.role, created_at=now, updated_at=now
        )
    elif participant.status == Status.LEFT:
        participant.status = Status.ACTIVE
        participant.left_at = None
    participant.role = profile.role
    participant.level = profile.level
    participant.department = profile.department
    participant.manager_id = profile.manager_id
    participant.topics = list(profile.topics)
    participant.goals = profile.goals
    participant.capacity = profile.capacity
    participant.timezone = timezone
    participant.title = title
    participant.updated_at = now
    session.add(participant)
    session.flush()
    return participant, created


def all_participants(*, session: Session, team_id: str) -> list[Participant]:
    return list(
        session.exec(
            select(Participant).where(Participant.team_id == team_id).order_by(col(Participant.id))
        ).all()
    )


def set_status(
    *, session: Session, team_id: str, user_id: str, status: Status, now: datetime
) -> Participant | None:
    participant = get_participant(session=session, team_id=team_id, user_id=user_id)
    if participant is None or participant.status == Status.LEFT:
        return participant
    participant.status = status
    participant.updated_at = now
    session.add(participant)
    return participant


def leave_program(
    *, session: Session, team_id: str, user_id: str, now: datetime
) -> Participant | None:
    """Mark someone as left and delete their profile details; the row (role, status, when
    they left) stays for pair history. What they answered: storage/forgetting.py."""
    participant = get_participant(session=session, team_id=team_id, user_id=user_id)
    if participant is None or participant.status == Status.LEFT:
        return participant
    participant.status = Status.LEFT
    participant.left_at = now
    participant.updated_at = now
    participant.goals = None
    participant.topics = []
    participant.department = None
    participant.manager_id = None
    participant.title = None
    participant.level = None
    participant.timezone = None
    session.add(participant)
    return participant


def count_participants(*, session: Session, team_id: str) -> Counter[tuple[str, str]]:
    """Head counts keyed by (role, status)."""
    rows = session.exec(
        select(Participant.role, Participant.status).where(Participant.team_id == team_id)
    ).all()
    return Counter((role, status) for role, status in rows)


def has_left(*, session: Session, team_id: str, user_id: str) -> bool:
    """Someone who left answers nothing more: a late click must not link new data to them."""
    participant = get_participant(session=session, team_id=team_id, user_id=user_id)
    return participant is not None and participant.status == Status.LEFT
