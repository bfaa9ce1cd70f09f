"""The waiting pool: who can be matched now, on which side, with how much room left."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.matching import Candidate
from bot.profiles import Role, Status

# "Either" people mentor when they are at most this level, and are mentored above it.
EITHER_MENTORS_UP_TO_LEVEL = 3


@dataclass(frozen=True)
class Person:
    """A participant as the pool needs them: plain data, whatever stores it."""

    user_id: str
    role: str
    status: str
    level: int | None
    department: str | None
    manager_id: str | None
    topics: Sequence[str]
    goals: str | None
    capacity: int
    timezone: str | None


@dataclass(frozen=True)
class Pool:
    juniors: list[Candidate]
    leaders: list[Candidate]
    managers: dict[str, str]  # everyone's reporting line, waiting or not


def utc_offset_minutes(timezone: str | None, now: datetime) -> int:
    """The zone's offset at `now` (so daylight saving is right on the day); UTC if unknown."""
    if not timezone:
        return 0
    try:
        offset = now.astimezone(ZoneInfo(timezone)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        return 0
    return int(offset.total_seconds() // 60) if offset is not None else 0


def side_of(person: Person) -> Role:
    if person.role == Role.EITHER:
        level = person.level or 0
        return Role.JUNIOR if level <= EITHER_MENTORS_UP_TO_LEVEL else Role.LEADER
    return Role(person.role)


def build_pool(
    people: Iterable[Person], live_pairs: Iterable[tuple[str, str]], now: datetime
) -> Pool:
    """Active people with room left: juniors below capacity, leaders without a mentor."""
    everyone = list(people)
    live = list(live_pairs)
    mentoring = Counter(mentor for mentor, _ in live)
    mentored = {mentee for _, mentee in live}
    juniors: list[Candidate] = []
    leaders: list[Candidate] = []
    for person in everyone:
        if person.status != Status.ACTIVE or person.level is None:
            continue
        side = side_of(person)
        if side == Role.JUNIOR:
            room = person.capacity - mentoring[person.user_id]
            if room <= 0 or person.user_id in mentored:
                continue
        else:
            room = 1
            if person.user_id in mentored or mentoring[person.user_id]:
                continue
        candidate = Candidate(
            user_id=person.user_id,
            role=side,
            level=person.level,
            department=person.department or "",
            manager_id=person.manager_id,
            topics=tuple(person.topics),
            goals=person.goals or "",
            utc_offset_minutes=utc_offset_minutes(person.timezone, now),
            capacity=room,
        )
        (juniors if side == Role.JUNIOR else leaders).append(candidate)
    managers = {p.user_id: p.manager_id for p in everyone if p.manager_id}
    return Pool(juniors=juniors, leaders=leaders, managers=managers)
