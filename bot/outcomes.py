"""Objectives and outcomes: progress on one's own goal at the midpoint and the end, on one's
own learning-agreement items, a leader's one change, and the figures admins see (only above a
minimum number of answers, so no figure points at one person)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypedDict

from bot.agreement import ITEMS_MAX
from bot.privacy import enough_people

CHECKPOINTS = ("midpoint", "end")
PROGRESS: dict[str, str] = {
    "not_yet": "Not yet",
    "some": "Some progress",
    "achieved": "Achieved",
}
CHANGE_MAX = 500
NOT_ENOUGH = "not enough responses"
# Whose agreement items someone answers about: a pair's leader (its mentee) the things to
# learn, its junior mentor the things to gain.
LEADER_SIDE = "leader"
JUNIOR_SIDE = "junior"
SIDES = (LEADER_SIDE, JUNIOR_SIDE)
# Besides live pairs, the pairs the program's end closed are still asked about at the end.
ASKED_AFTER = frozenset({"program_ended", "cohort_closed"})
# A junior mentor has at most three pairs of at most ITEMS_MAX items each: the question
# never holds more item questions than this, so it stays well within a message's 50 blocks.
ITEM_QUESTIONS_MAX = 3 * ITEMS_MAX


@dataclass(frozen=True)
class ItemQuestion:
    """One of someone's own agreement items, as their checkpoint question asks about it."""

    pair_id: int
    partner: str  # the other person in the pair (a user ID, shown only to the person asked)
    index: int  # its place in the person's own side of the agreement
    text: str
    answered: str | None = None  # a PROGRESS key, once they answered


def checkpoint_ref(cohort_id: int, checkpoint: str) -> str:
    """A cohort's checkpoint as its buttons and forms carry it: "12:midpoint"."""
    return f"{cohort_id}:{checkpoint}"


def parse_checkpoint_ref(raw: str | None) -> tuple[int | None, str | None]:
    """(cohort id, checkpoint) from a button's value; the cohort is None in a question sent
    before there were cohorts ("midpoint"), and both are None for anything unreadable."""
    text = (raw or "").strip()
    cohort, _, checkpoint = text.rpartition(":")
    if checkpoint not in CHECKPOINTS:
        return None, None
    if not cohort:
        return None, checkpoint
    return (int(cohort), checkpoint) if cohort.isdigit() and len(cohort) < 12 else (None, None)


class CheckpointFigures(TypedDict):
    """One checkpoint's figures, keyed by PROGRESS: how many answers of each and their share."""

    responses: int
    counts: dict[str, int]
    shares: dict[str, float]


def validate_change(raw: str | None) -> tuple[str | None, str | None]:
    """(text to store or None when left empty, error for the field or None)."""
    text = (raw or "").strip()
    if len(text) > CHANGE_MAX:
        return None, (
            f"Please keep it to {CHANGE_MAX} characters; this is {len(text)}. One change is plenty."
        )
    return text or None, None


def is_leader(role: str, *, mentee_in_a_pair: bool) -> bool:
    """Leaders are asked about one change: anyone signed up as a leader, or mentored in a pair."""
    return role == "leader" or mentee_in_a_pair


def own_side(user_id: str, *, mentor_id: str, mentee_id: str) -> str | None:
    """Which side of a pair's agreement is `user_id`'s own; None if they are not in the pair."""
    if user_id == mentee_id:
        return LEADER_SIDE
    if user_id == mentor_id:
        return JUNIOR_SIDE
    return None


def own_items(
    side: str, *, leader_items: Sequence[str], junior_items: Sequence[str]
) -> tuple[str, ...]:
    """The items of one side of an agreement, at most ITEMS_MAX (what a message can hold)."""
    items = leader_items if side == LEADER_SIDE else junior_items
    return tuple(items[:ITEMS_MAX])


def asks_items_of(*, live: bool, end_reason: str | None, introduced: bool) -> bool:
    """Whether a checkpoint asks about a pair's agreement: the pair was introduced and is
    still live, or was closed by the program's end (at the end every live pair is closed
    first). A pair that ended otherwise (unpaired, re-matched, someone left) is not asked."""
    return introduced and (live or end_reason in ASKED_AFTER)


@dataclass(frozen=True)
class AgreedPair:
    """A pair someone is or was in, with its learning agreement, as plain facts."""

    pair_id: int
    mentor_id: str
    mentee_id: str
    live: bool
    end_reason: str | None
    introduced: bool
    leader_items: tuple[str, ...]
    junior_items: tuple[str, ...]


def item_questions(
    user_id: str, pairs: Iterable[AgreedPair], answers: Mapping[tuple[int, int], str]
) -> list[ItemQuestion]:
    """What a checkpoint asks `user_id` about their agreements: each of their own side's
    items (a leader's things to learn, a junior mentor's things to gain), for each pair the
    checkpoint asks about (asks_items_of), in pair order, at most ITEM_QUESTIONS_MAX;
    `answers` ((pair_id, item_index) -> progress) fills in what they answered so far. Only
    these may be answered."""
    found: list[ItemQuestion] = []
    for pair in pairs:
        side = own_side(user_id, mentor_id=pair.mentor_id, mentee_id=pair.mentee_id)
        if side is None or not asks_items_of(
            live=pair.live, end_reason=pair.end_reason, introduced=pair.introduced
        ):
            continue
        partner = pair.mentor_id if side == LEADER_SIDE else pair.mentee_id
        items = own_items(side, leader_items=pair.leader_items, junior_items=pair.junior_items)
        for index, text in enumerate(items):
            answered = answers.get((pair.pair_id, index))
            found.append(ItemQuestion(pair.pair_id, partner, index, text, answered))
    return found[:ITEM_QUESTIONS_MAX]


def outcome_figures(
    answers: list[tuple[str, str, str | None]], *, min_responses: int
) -> dict[str, CheckpointFigures | str]:
    """Per checkpoint, from (person, checkpoint, progress) answers: how many answered and the
    counts and shares of each progress answer, or NOT_ENOUGH unless at least `min_responses`
    different people answered.

    {"midpoint": {"responses": 4, "counts": {"not_yet": 1, "some": 2, "achieved": 1},
                  "shares": {"not_yet": 0.25, "some": 0.5, "achieved": 0.25}},
     "end": "not enough responses"}

    Answers without a progress value (a leader who only shared a change) do not count."""
    figures: dict[str, CheckpointFigures | str] = {}
    for checkpoint in CHECKPOINTS:
        counts = dict.fromkeys(PROGRESS, 0)
        people = []
        for person, where, progress in answers:
            if where == checkpoint and progress in counts:
                counts[progress] += 1
                people.append(person)
        responses = sum(counts.values())
        if not enough_people(people, min_responses):
            figures[checkpoint] = NOT_ENOUGH
            continue
        figures[checkpoint] = {
            "responses": responses,
            "counts": counts,
            "shares": {key: count / responses for key, count in counts.items()},
        }
    return figures


def item_figures(
    answers: Iterable[tuple[str, str, str, str | None]], *, min_responses: int
) -> dict[str, dict[str, CheckpointFigures | str]]:
    """Agreement items by answer, per side (SIDES) and then per checkpoint, from
    (person, side, checkpoint, progress) answers, one per item: how many item answers and the
    counts and shares of each progress answer, or NOT_ENOUGH unless at least `min_responses`
    different people answered on that side at that checkpoint (three items answered by one
    person are still one person)."""
    answers = list(answers)
    return {
        side: outcome_figures(
            [(person, where, progress) for person, own, where, progress in answers if own == side],
            min_responses=min_responses,
        )
        for side in SIDES
    }


def leader_changes(changes: list[tuple[str, str]], *, min_responses: int) -> list[str] | None:
    """The changes leaders shared, from (person, text), anonymous: empty ones dropped, None
    unless at least `min_responses` different people gave one, and ordered by a hash of the
    text alone, so neither who answered nor when shows."""
    shared = [(person, text.strip()) for person, text in changes if text and text.strip()]
    if not enough_people((person for person, _ in shared), min_responses):
        return None
    return sorted((text for _, text in shared), key=_scramble)


def _scramble(text: str) -> tuple[str, str]:
    return hashlib.sha256(text.encode()).hexdigest(), text


def progress_label(progress: str | None) -> str | None:
    return PROGRESS.get(progress or "")
