"""Participant profiles: the program's vocabulary (roles, levels, topics) and signup validation."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    JUNIOR = "junior"  # mentors a leader
    LEADER = "leader"  # is mentored by a junior
    EITHER = "either"


ROLE_LABELS: dict[Role, str] = {
    Role.JUNIOR: "I'm a junior who will mentor a leader",
    Role.LEADER: "I'm a leader who wants a reverse mentor",
    Role.EITHER: "Either: match me where I'm most useful",
}


class Status(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    LEFT = "left"


# Ordered: matching relies on "the mentor's level is strictly below the mentee's".
LEVELS: dict[int, str] = {
    1: "Early-career individual contributor",
    2: "Experienced individual contributor",
    3: "Team lead or manager",
    4: "Senior manager or director",
    5: "Vice president or head of function",
    6: "Executive (C-level)",
}

TOPICS: dict[str, str] = {
    "ai": "Digital trends & AI",
    "social": "Social media",
    "inclusion": "Inclusion & diversity",
    "hybrid": "Hybrid & flexible work",
    "sustainability": "Sustainability",
    "genz": "Gen Z expectations",
    "career": "Career growth",
}

DEPARTMENT_MAX = 80
GOALS_MAX = 500
CAPACITY_RANGE = range(1, 4)
_USER_ID = re.compile(r"^[UW][A-Z0-9]+$")


@dataclass(frozen=True)
class SignupForm:
    """What a person entered in the signup modal, as raw strings from Slack."""

    user_id: str
    role: str | None
    level: str | None
    department: str | None
    manager_id: str | None
    topics: tuple[str, ...] = ()
    goals: str | None = None
    capacity: str | None = None


@dataclass(frozen=True)
class Profile:
    """A validated profile, ready to store."""

    role: Role
    level: int
    department: str
    manager_id: str | None
    topics: tuple[str, ...]
    goals: str
    capacity: int


@dataclass(frozen=True)
class SignupResult:
    profile: Profile | None
    errors: dict[str, str] = field(default_factory=dict)


def validate_signup(form: SignupForm) -> SignupResult:
    """Check a signup form; errors are keyed by field name with a sentence for the person."""
    errors: dict[str, str] = {}

    role = _role_or_none(form.role)
    if role is None:
        errors["role"] = "Choose whether you'll mentor, be mentored, or either."

    level: int | None = None
    if form.level is not None and form.level.isdigit() and int(form.level) in LEVELS:
        level = int(form.level)
    else:
        errors["level"] = "Choose your level from the list."

    department = " ".join((form.department or "").split())
    if not department:
        errors["department"] = "Tell us your department, so we can pair across teams."
    elif len(department) > DEPARTMENT_MAX:
        errors["department"] = f"Keep the department under {DEPARTMENT_MAX} characters."

    manager_id = form.manager_id or None
    if manager_id is not None:
        if not _USER_ID.match(manager_id):
            errors["manager"] = "Pick your manager from the people list."
        elif manager_id == form.user_id:
            errors["manager"] = "You can't be your own manager; leave this empty if you have none."

    topics = tuple(dict.fromkeys(form.topics))
    if not topics:
        errors["topics"] = "Pick at least one topic."
    elif any(t not in TOPICS for t in topics):
        errors["topics"] = "Pick topics from the list."

    goals = (form.goals or "").strip()
    if not goals:
        errors["goals"] = "Write a sentence or two about what you want to learn or teach."
    elif len(goals) > GOALS_MAX:
        errors["goals"] = (
            f"Please keep your goals under {GOALS_MAX} characters (you wrote {len(goals)})."
        )

    capacity = 1
    if form.capacity:
        if form.capacity.isdigit() and int(form.capacity) in CAPACITY_RANGE:
            capacity = int(form.capacity)
        else:
            errors["capacity"] = "Choose 1, 2 or 3."

    if errors or role is None or level is None:
        return SignupResult(profile=None, errors=errors)
    return SignupResult(
        profile=Profile(
            role=role,
            level=level,
            department=department,
            manager_id=manager_id,
            topics=topics,
            goals=goals,
            capacity=capacity,
        )
    )


def _role_or_none(raw: str | None) -> Role | None:
    if raw is None:  # nothing chosen; Role(None) would raise ValueError just the same
        return None
    try:
        return Role(raw)
    except ValueError:
        return None


def describe_topics(topics: tuple[str, ...] | list[str]) -> str:
    """'Digital trends & AI and Social media' style list for messages."""
    names = [TOPICS[t] for t in topics if t in TOPICS]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
