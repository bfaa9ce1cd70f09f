"""Objectives and outcomes: progress on one's own goal at the midpoint and the end, a leader's
one change, and the figures admins see (only above a minimum number of answers, so no figure
points at one person)."""

from __future__ import annotations

import hashlib
from typing import TypedDict

from bot.privacy import enough_people

CHECKPOINTS = ("midpoint", "end")
PROGRESS: dict[str, str] = {
    "not_yet": "Not yet",
    "some": "Some progress",
    "achieved": "Achieved",
}
CHANGE_MAX = 500
NOT_ENOUGH = "not enough responses"


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
