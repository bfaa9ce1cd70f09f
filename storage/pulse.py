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
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, Select, and_, bindparam, delete
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from bot import pulse
from bot.cadence import ProgramSettings
from bot.profiles import Status
from storage.models import Pair, Participant, PulseResponse, PulseSurvey
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


@dataclass(frozen=True)
class ReactionTarget:
    """What a reaction on a message needs to know, read in one statement."""

    survey_id: int
    closes_at: datetime
    members: tuple[str, str]  # the pair's mentor and mentee
    reactor_left: bool  # the person reacting has left the program
    current: int | None  # the person's stored rating for this survey


def _reaction_target_statement() -> Select[Any]:
    survey, pair = PulseSurvey.__table__, Pair.__table__  # type: ignore[attr-defined]
    person, response = Participant.__table__, PulseResponse.__table__  # type: ignore[attr-defined]
    user: BindParameter[str] = bindparam("user_id")
    return (
        core_select(
            survey.c.id,
            survey.c.closes_at,
            pair.c.mentor_id,
            pair.c.mentee_id,
            person.c.status,
            response.c.rating,
        )
        .select_from(
            survey.join(
                pair, and_(pair.c.id == survey.c.pair_id, pair.c.team_id == survey.c.team_id)
            )
            .outerjoin(person, and_(person.c.team_id == survey.c.team_id, person.c.user_id == user))
            .outerjoin(
                response, and_(response.c.survey_id == survey.c.id, response.c.user_id == user)
            )
        )
        .where(
            survey.c.channel_id == bindparam("channel_id"),
            survey.c.ts == bindparam("ts"),
            survey.c.team_id == bindparam("team_id"),
        )
        .limit(1)
    )


# Built once: a reaction is the busiest thing the bot receives (see storage/sql.py).
_REACTION_TARGET = _reaction_target_statement()


def reaction_target(
    *, session: Session, team_id: str, channel_id: str, ts: str, user_id: str
) -> ReactionTarget | None:
    """The survey posted as this message (through ix_pulse_survey_message), its pair's two
    people, whether `user_id` has left, and their current rating; None if no survey."""
    row = session.execute(
        _REACTION_TARGET,
        {"team_id": team_id, "channel_id": channel_id, "ts": ts, "user_id": user_id},
    ).first()
    if row is None:
        return None
    survey_id, closes, mentor_id, mentee_id, status, rating = row
    return ReactionTarget(
        survey_id=survey_id,
        closes_at=closes,
        members=(mentor_id, mentee_id),
        reactor_left=status == Status.LEFT,
        current=rating,
    )


def store_reaction(
    *,
    session: Session,
    team_id: str,
    survey_id: int,
    user_id: str,
    rating: int | None,
    now: datetime,
) -> None:
    """Someone's rating after a reaction: stored (a later one replaces it), or withdrawn."""
    if rating is None:
        session.execute(
            delete(PulseResponse).where(
                col(PulseResponse.survey_id) == survey_id, col(PulseResponse.user_id) == user_id
            )
        )
        return
    upsert(
        session,
        PulseResponse,
        keys=("survey_id", "user_id"),
        replace=("rating", "updated_at"),
        team_id=team_id,
        survey_id=survey_id,
        user_id=user_id,
        rating=rating,
        updated_at=now,
    )


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
