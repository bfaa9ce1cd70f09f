"""CSV roster import for admins who pick a cohort up front: every row valid, or nothing."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from bot.profiles import LEVELS, TOPICS, Profile, SignupForm, validate_signup

COLUMNS = ("user", "role", "level", "department", "manager", "topics", "goals", "capacity")
REQUIRED = ("user", "role", "level", "department", "topics", "goals")
MAX_ROWS = 5000
_USER_ID = re.compile(r"^[UW][A-Z0-9]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TOPIC_BY_NAME = {label.lower(): key for key, label in TOPICS.items()} | {k: k for k in TOPICS}
_LEVEL_BY_NAME = {label.lower(): str(n) for n, label in LEVELS.items()}


@dataclass(frozen=True)
class RosterRow:
    line: int
    user: str  # a Slack user ID or an email address, resolved by the caller
    manager: str | None
    form: SignupForm


@dataclass(frozen=True)
class RosterProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass(frozen=True)
class ParsedRoster:
    rows: list[tuple[RosterRow, Profile]]
    problems: list[RosterProblem]


def is_user_reference(value: str) -> bool:
    return bool(_USER_ID.match(value) or _EMAIL.match(value))


def parse_roster(text: str) -> ParsedRoster:
    """Read and validate every row; the caller imports only when `problems` is empty."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return ParsedRoster(
            rows=[],
            problems=[
                RosterProblem(
                    0,
                    f"the header must name the columns {', '.join(COLUMNS)} "
                    f"(missing: {', '.join(missing)})",
                )
            ],
        )
    reader.fieldnames = header
    rows: list[tuple[RosterRow, Profile]] = []
    problems: list[RosterProblem] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            problems.append(RosterProblem(number, f"a roster holds at most {MAX_ROWS} people"))
            break
        cell = {k: (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(cell.values()):
            continue
        user, manager = cell.get("user", ""), cell.get("manager") or None
        row_problems = []
        if not is_user_reference(user):
            row_problems.append("user must be a Slack user ID (U…) or an email address")
        elif user.lower() in seen:
            row_problems.append(f"user is listed twice (first on line {seen[user.lower()]})")
        if manager is not None and not is_user_reference(manager):
            row_problems.append("manager must be a Slack user ID (U…), an email, or empty")
        topics = [t.strip().lower() for t in re.split(r"[;|]", cell.get("topics", "")) if t.strip()]
        form = SignupForm(
            user_id=user,
            role=cell.get("role", "").lower() or None,
            level=_LEVEL_BY_NAME.get(cell.get("level", "").lower(), cell.get("level")),
            department=cell.get("department"),
            manager_id=None,  # checked after the caller resolves it to a user ID
            topics=tuple(_TOPIC_BY_NAME.get(t, t) for t in topics),
            goals=cell.get("goals"),
            capacity=cell.get("capacity") or None,
        )
        result = validate_signup(form)
        row_problems += [f"{field}: {message}" for field, message in result.errors.items()]
        seen.setdefault(user.lower(), number)
        if row_problems:
            problems += [RosterProblem(number, p) for p in row_problems]
        elif result.profile is not None:
            rows.append(
                (RosterRow(line=number, user=user, manager=manager, form=form), result.profile)
            )
    if not rows and not problems:
        problems.append(RosterProblem(0, "the roster has no people in it"))
    return ParsedRoster(rows=rows, problems=problems)
