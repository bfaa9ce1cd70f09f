"""Pulse: deciding surveys (after a logged session, or on the cadence for a quiet pair) and
applying the answers, by reaction or button. Ratings and who gave them are never logged."""

from __future__ import annotations

from datetime import date, datetime
from functools import partial

from sqlmodel import Session

from bot import pulse
from bot.cadence import ProgramSettings
from handlers.core.deps import Deps
from storage import outbox as rows
from storage import pairs, participants, program, rhythm
from storage import pulse as surveys
from storage.models import Pair

KIND = "pulse"
BATCH = 200


def decide_pulse(
    session: Session, *, pair: Pair, period: str, settings: ProgramSettings, now: datetime
) -> bool:
    """Decide a pulse survey for this pair and period, once; the cadence starts again from
    now. False when the period had one already or the pair is not active."""
    if pair.status != "active":
        return False
    surveys.start_cadence(pair=pair, settings=settings, now=now)
    session.add(pair)
    survey_id = surveys.create_survey(
        session=session, pair=pair, period=period, settings=settings, now=now
    )
    if survey_id is None:
        return False
    return rows.enqueue(
        session=session,
        team_id=pair.team_id,
        key=f"pulse:{pair.id}:{period}",
        kind=KIND,
        pair_id=pair.id,
        payload={"survey": survey_id, "period": period},
        now=now,
    )


def decide_session_pulse(
    session: Session, *, pair: Pair, held_on: date, settings: ProgramSettings, now: datetime
) -> bool:
    """After a logged session: how valuable was it?"""
    return decide_pulse(
        session, pair=pair, period=pulse.session_period(held_on), settings=settings, now=now
    )


async def decide_cadence_pulses(deps: Deps) -> int:
    """A tick step: pairs whose pulse_due_at has come (they logged no session for a while)
    get a pulse; each decision also moves their pulse_due_at on, so this ends."""
    decided = 0
    while True:
        now = deps.clock()
        count = await deps.db.run(partial(_decide_cadence_batch, now=now))
        decided += count
        if count < BATCH:
            return decided


def next_cadence_pulse(session: Session, _deps: Deps, _now: datetime) -> datetime | None:
    """When `decide_cadence_pulses` could next decide one."""
    return rhythm.earliest_due(session=session, columns=("pulse_due_at",))


def _decide_cadence_batch(session: Session, now: datetime) -> int:
    due = rhythm.due_pairs(session=session, column="pulse_due_at", now=now, limit=BATCH)
    for pair in due:
        settings = program.get_program_settings(
            session=session, team_id=pair.team_id, cohort_id=pair.cohort_id
        )
        # Named by the day it fell due, so a late, repeated or restarted tick decides the
        # same survey.
        period = pulse.cadence_period((pair.pulse_due_at or now).date())
        pair.pulse_due_at = None
        session.add(pair)
        decide_pulse(session, pair=pair, period=period, settings=settings, now=now)
    return len(due)


def apply_reaction(session: Session, deps: Deps, team_id: str, event: dict, now: datetime) -> None:
    """A reaction added to or removed from a message: a rating if it is a pair member's,
    on an open survey, with an emoji of the scale. Anything else changes nothing."""
    item = event.get("item") or {}
    user_id = event.get("user")
    if item.get("type") != "message" or not user_id or event.get("from_bot"):
        return
    rating = pulse.rating_for(event.get("reaction"))
    channel_id, ts = item.get("channel"), item.get("ts")
    if rating is None or not channel_id or not ts:
        return
    target = surveys.reaction_target(
        session=session, team_id=team_id, channel_id=channel_id, ts=ts, user_id=user_id
    )
    if target is None or not pulse.is_open(target.closes_at, now):
        return
    if user_id not in target.members:
        return
    if target.reactor_left:
        return  # a survey still open in Slack: someone who left is not linked to a rating
    after = pulse.after_reaction(
        target.current, rating, added=event.get("type") == "reaction_added"
    )
    if after is None and target.current is None:
        return
    surveys.store_reaction(
        session=session,
        team_id=team_id,
        survey_id=target.survey_id,
        user_id=user_id,
        rating=after,
        now=now,
    )


async def rate(
    deps: Deps, *, team_id: str, user_id: str, survey_id: int, rating: int
) -> str | None:
    """A rating pressed as a button; returns what to tell the person (None: not a rating)."""
    point = pulse.point_for(rating)
    if point is None:
        return None

    def record(session: Session) -> str:
        now = deps.clock()
        survey = surveys.get_survey(session=session, team_id=team_id, survey_id=survey_id)
        pair = None
        if survey is not None:
            pair = pairs.get_pair(session=session, team_id=team_id, pair_id=survey.pair_id)
        if survey is None or pair is None or user_id not in (pair.mentor_id, pair.mentee_id):
            return "Only the two people in this pair can answer its pulse survey."
        if not pulse.is_open(survey.closes_at, now):
            return "This survey has closed."
        if participants.has_left(session=session, team_id=team_id, user_id=user_id):
            return "You've left the program, so your answer wasn't saved."
        surveys.set_rating(
            session=session, survey=survey, user_id=user_id, rating=point.rating, now=now
        )
        return (
            f"Thanks: you answered :{point.emoji}: ({point.label}). "
            "Press another number to change it."
        )

    return await deps.db.run(record)
