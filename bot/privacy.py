"""The one rule behind every figure admins see: it needs at least `min_responses` different
people. Counting answers is not enough: one person answering three times is still one person,
and an average of their answers is their rating."""

from __future__ import annotations

from collections.abc import Iterable


def people_count(people: Iterable[str]) -> int:
    return len(set(people))


def enough_people(people: Iterable[str], min_responses: int) -> bool:
    """True when at least `min_responses` (and at least one) different people answered."""
    count = people_count(people)
    return count > 0 and count >= min_responses
