"""A pair's learning agreement: what the leader wants to learn and what the junior mentor
wants to gain, one to three short items each, written one per line in a form.

Validation (per field, a sentence for the person) and the leader's pre-fill from the topics
the two share and the goal the leader wrote at signup. No Slack, no database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.profiles import TOPICS

ITEMS_MIN = 1
ITEMS_MAX = 3
ITEM_MAX = 150  # characters per item, after trimming
LEADER = "leader_items"  # the form's field names, also the keys of its errors
JUNIOR = "junior_items"


@dataclass(frozen=True)
class AgreementForm:
    """What was typed: each side's items, one per line, as the raw text from Slack."""

    leader_items: str | None
    junior_items: str | None


@dataclass(frozen=True)
class Agreement:
    leader_items: tuple[str, ...]
    junior_items: tuple[str, ...]


@dataclass(frozen=True)
class AgreementResult:
    agreement: Agreement | None
    errors: dict[str, str] = field(default_factory=dict)


def split_items(raw: str | None) -> list[str]:
    """One item per line, each trimmed; blank lines are not items."""
    return [line.strip() for line in (raw or "").splitlines() if line.strip()]


def _check(items: list[str], who: str) -> str | None:
    if len(items) < ITEMS_MIN:
        return f"Write at least one thing {who}, one per line."
    if len(items) > ITEMS_MAX:
        return (
            f"Keep it to at most {ITEMS_MAX} things {who}, one per line (there are {len(items)})."
        )
    for number, item in enumerate(items, start=1):
        if len(item) > ITEM_MAX:
            return f"Keep each line under {ITEM_MAX} characters (line {number} has {len(item)})."
    return None


def validate_agreement(form: AgreementForm) -> AgreementResult:
    """Both sides: one to three non-empty lines of at most ITEM_MAX characters each."""
    leader = split_items(form.leader_items)
    junior = split_items(form.junior_items)
    errors: dict[str, str] = {}
    if (problem := _check(leader, "the leader wants to learn")) is not None:
        errors[LEADER] = problem
    if (problem := _check(junior, "the mentor wants to gain")) is not None:
        errors[JUNIOR] = problem
    if errors:
        return AgreementResult(agreement=None, errors=errors)
    return AgreementResult(agreement=Agreement(tuple(leader), tuple(junior)))


def _one_line(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def leader_prefill(shared_topics: Sequence[str], goal: str | None) -> list[str]:
    """What the leader's field starts with before anything was agreed: their signup goal
    (one line, within ITEM_MAX) and then the labels of the topics the two share, at most
    ITEMS_MAX in all. The form is always valid as pre-filled on the leader's side."""
    items: list[str] = []
    if goal and goal.strip():
        items.append(_one_line(goal, ITEM_MAX))
    for topic in shared_topics:
        label = TOPICS.get(topic)
        if label is not None and label not in items:
            items.append(label)
    return items[:ITEMS_MAX]


def as_text(items: Sequence[str]) -> str:
    """Items back into the form's one-per-line text."""
    return "\n".join(items)
