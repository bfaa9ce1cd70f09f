"""Pulse surveys and their responses.

A survey is created when the pulse feature decides one (after a logged session, or when a
quiet pair's `pulse_due_at` comes round), in the transaction that decides its message, and
gets its Slack message (channel, ts) once the outbox has posted it. A response is someone's
current rating for a survey: one row per survey and person, replaced by a later answer,
deleted when withdrawn.

Ratings are never logged. The read functions at the bottom are for summaries and the App
Home; `ratings_of_user` is for that person's own Home tab only.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, col, select

from bot import pulse
from bot.cadence import ProgramSettings
from storage.models import Pair, PulseResponse, PulseSurvey, saved_id
from storage.sql import insert_new, upsert


def create_survey(
    *, session: Session, pair: Pair, period: str, settings: ProgramSettings, now: datetime
) -> int | None:
    """A new survey for this pair and period (its message is posted later); None when the
    period had one already."""
    if not insert_new(
        session,
        PulseSurvey,
        team_id=pair.team_id,
        pair_id=pair.id,
        period=period,
        opened_at=now,  # provisional: set again when the message goes out
        closes_at=pulse.closes_at(now, settings),
    ):
        return None
    return session.exec(
        select(PulseSurvey.id).where(PulseSurvey.pair_id == pair.id, PulseSurvey.period == period)
    ).one()


def start_cadence(*, pair: Pair, settings: ProgramSettings, now: datetime) -> None:
    """A pair starting (or resuming) its rhythm is asked on the cadence from now on."""
    pair.pulse_due_at = pulse.next_pulse_due(now, settings)


def get_survey(*, session: Session, team_id: str, survey_id: int) -> PulseSurvey | None:
    survey = session.get(PulseSurvey, survey_id)
    return survey if survey is not None and survey.team_id == team_id else None


def mark_posted(
    *,
    session: Session,
    survey_id: int,
    channel_id: str,
    ts: str,
    settings: ProgramSettings,
    now: datetime,
) -> None:
    """The survey message is in Slack: reactions on it count from now until it closes."""
    survey = session.get(PulseSurvey, survey_id)
    if survey is None or survey.ts is not None:
        return
    survey.channel_id, survey.ts = channel_id, ts
    survey.opened_at, survey.closes_at = now, pulse.closes_at(now, settings)
    session.add(survey)


def survey_for_message(
    *, session: Session, team_id: str, channel_id: str, ts: str
) -> PulseSurvey | None:
    """The survey a reaction is addressed to, read through ix_pulse_survey_message."""
    return session.exec(
        select(PulseSurvey).where(
            PulseSurvey.channel_id == channel_id,
            PulseSurvey.ts == ts,
            PulseSurvey.team_id == team_id,
        )
    ).first()


def current_rating(*, session: Session, survey_id: int, user_id: str) -> int | None:
    return session.exec(
        select(PulseResponse.rating).where(
            PulseResponse.survey_id == survey_id, PulseResponse.user_id == user_id
        )
    ).first()


def set_rating(
    *, session: Session, survey: PulseSurvey, user_id: str, rating: int, now: datetime
) -> None:
    """Someone's rating for a survey; a later one replaces it."""
    upsert(
        session,
        PulseResponse,
        keys=("survey_id", "user_id"),
        replace=("rating", "updated_at"),
        team_id=survey.team_id,
        survey_id=survey.id,
        user_id=user_id,
        rating=rating,
        updated_at=now,
    )


def withdraw_rating(*, session: Session, survey: PulseSurvey, user_id: str) -> None:
    session.execute(
        delete(PulseResponse).where(
            col(PulseResponse.survey_id) == survey.id, col(PulseResponse.user_id) == user_id
        )
    )


def apply_reaction(
    *,
    session: Session,
    survey: PulseSurvey,
    user_id: str,
    rating: int,
    added: bool,
    now: datetime,
) -> bool:
    """Add or remove the reaction for `rating` (see bot.pulse.after_reaction); True if
    the person's stored rating changed."""
    current = current_rating(session=session, survey_id=saved_id(survey), user_id=user_id)
    after = pulse.after_reaction(current, rating, added=added)
    if after is None:
        if current is None:
            return False
        withdraw_rating(session=session, survey=survey, user_id=user_id)
        return True
    set_rating(session=session, survey=survey, user_id=user_id, rating=after, now=now)
    return after != current


# --- read API for summaries and the App Home ----------------------------------------------


def ratings_in_period(
    *, session: Session, team_id: str, start: datetime, end: datetime
) -> list[tuple[int, str, int]]:
    """(pair_id, user_id, rating) of every current response last updated in [start, end).
    Who answered is there so figures can count different people; never show it with a rating."""
    rows = session.exec(
        select(PulseSurvey.pair_id, PulseResponse.user_id, PulseResponse.rating)
        .join(PulseSurvey, col(PulseSurvey.id) == col(PulseResponse.survey_id))
        .where(
            PulseResponse.team_id == team_id,
            col(PulseResponse.updated_at) >= start,
            col(PulseResponse.updated_at) < end,
        )
        .order_by(col(PulseResponse.updated_at), col(PulseResponse.id))
    ).all()
    return [(pair_id, user_id, rating) for pair_id, user_id, rating in rows]


def ratings_of_user(*, session: Session, team_id: str, user_id: str) -> list[tuple[datetime, int]]:
    """(when given, rating) of this person's own current responses, oldest first. For their
    own Home tab only: nobody else is shown who gave which rating."""
    rows = session.exec(
        select(PulseResponse.updated_at, PulseResponse.rating)
        .where(PulseResponse.team_id == team_id, PulseResponse.user_id == user_id)
        .order_by(col(PulseResponse.updated_at), col(PulseResponse.id))
    ).all()
    return [(updated_at, rating) for updated_at, rating in rows]


def response_counts_by_pair(*, session: Session, team_id: str) -> dict[int, list[int]]:
    """pair_id -> the ratings of every current response to that pair's surveys."""
    rows = session.exec(
        select(PulseSurvey.pair_id, PulseResponse.rating)
        .join(PulseSurvey, col(PulseSurvey.id) == col(PulseResponse.survey_id))
        .where(PulseResponse.team_id == team_id)
        .order_by(col(PulseSurvey.pair_id), col(PulseResponse.id))
    ).all()
    counts: dict[int, list[int]] = defaultdict(list)
    for pair_id, rating in rows:
        counts[pair_id].append(rating)
    return dict(counts)
