"""Pulse surveys: a five-point scale answered with an emoji reaction (or a button).

Pure rules only: which emoji means which rating, what a reaction does to someone's current
rating, when a survey closes and when the next cadence pulse is due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.cadence import ProgramSettings

QUESTION = "How valuable was your last conversation?"


@dataclass(frozen=True)
class Point:
    """One step of the scale: the Slack emoji name people react with, and what it means."""

    emoji: str
    rating: int
    label: str


# Lowest to highest: the order the bot seeds them on the survey message.
SCALE: tuple[Point, ...] = (
    Point("one", 1, "not valuable"),
    Point("two", 2, "a little valuable"),
    Point("three", 3, "somewhat valuable"),
    Point("four", 4, "very valuable"),
    Point("five", 5, "extremely valuable"),
)
RATINGS: dict[str, int] = {point.emoji: point.rating for point in SCALE}
LOWEST, HIGHEST = SCALE[0].rating, SCALE[-1].rating


def rating_for(emoji: str | None) -> int | None:
    """The rating an emoji reaction stands for; None when it is off the scale.

    Slack names a skin-toned reaction "name::skin-tone-2": the tone does not change it."""
    if not emoji:
        return None
    return RATINGS.get(emoji.split("::", 1)[0])


def point_for(rating: int) -> Point | None:
    return next((point for point in SCALE if point.rating == rating), None)


def scale_text() -> str:
    """The scale as people read it in the survey: ":one: not valuable ... :five: extremely"."""
    return " · ".join(f":{point.emoji}: {point.label}" for point in SCALE)


def after_reaction(current: int | None, rating: int, *, added: bool) -> int | None:
    """Someone's rating after they add or remove the reaction for `rating`.

    The last reaction added wins. Removing the reaction for their current rating withdraws
    it; removing an older reaction they have since replaced changes nothing."""
    if added:
        return rating
    return None if current == rating else current


def session_period(held_on: date) -> str:
    return f"session:{held_on.isoformat()}"


def cadence_period(day: date) -> str:
    return f"cadence:{day.isoformat()}"


def closes_at(opened_at: datetime, settings: ProgramSettings) -> datetime:
    return opened_at + timedelta(days=settings.pulse_close_days)


def is_open(closes: datetime, now: datetime) -> bool:
    return now < closes


def next_pulse_due(last: datetime, settings: ProgramSettings) -> datetime:
    """When a pair that logs no session is asked next: the cadence after the last pulse
    (or after the introduction, before the first one)."""
    return last + timedelta(days=settings.pulse_cadence_days)
